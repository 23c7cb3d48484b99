//! Storage for the benchmarks, all from the test kit: a real `redis-server` behind the npm
//! Upstash emulator, and the kit's Upstash TEST DOUBLE told to answer every call after a fixed
//! delay (for "storage is slow"; it still applies the commands to its own Redis).

use crate::layout::Result;
use std::collections::BTreeMap;
use std::time::Duration;
use testkit::emulator::{Emulator, TOKEN};
use testkit::fake_upstash::FakeUpstash;
use testkit::redis::Redis;

/// The npm emulator in front of a real Redis: what the throughput and billing sections write
/// through.
pub struct Emulated {
    // Dropped in this order: the emulator before the Redis it talks to.
    emulator: Emulator,
    pub redis: Redis,
}

impl Emulated {
    pub fn start() -> Emulated {
        let redis = Redis::start();
        let emulator = Emulator::start(&redis);
        Emulated { emulator, redis }
    }

    /// The app's settings: the URL and the write token (reads use it too).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KV_REST_API_URL", self.emulator.url.clone()),
            ("KV_REST_API_TOKEN", TOKEN.into()),
        ]
    }

    pub fn url(&self) -> &str {
        &self.emulator.url
    }

    /// Empties Redis and its command counters between runs (a script Redis has cached stays).
    pub fn reset(&self) {
        self.redis.reset();
    }

    /// The write calls Redis ran since the last reset: `ZADD` (the app) or `LPUSH` (the
    /// official example), each one storage call (one HTTP request to storage).
    pub fn write_calls(&self) -> u64 {
        WRITES.iter().map(|name| self.redis.calls(name)).sum()
    }
}

/// The commands that write records.
const WRITES: [&str; 2] = ["ZADD", "LPUSH"];

/// Redis' count of each command it ran since its counters were reset (`INFO commandstats`): the
/// commands [`Redis::billed`] adds up.
pub fn command_stats(redis: &Redis) -> CommandStats {
    CommandStats::parse(&redis.cli(&["INFO", "commandstats"]))
}

/// Resets Redis' command counters only, keeping its data.
pub fn reset_counters(redis: &Redis) {
    redis.cli(&["CONFIG", "RESETSTAT"]);
}

/// `INFO commandstats`: per command (lowercase), how many calls, the bench's own (`INFO`,
/// `CONFIG RESETSTAT`) left out.
#[derive(Debug, Default, Clone)]
pub struct CommandStats(BTreeMap<String, u64>);

impl CommandStats {
    fn parse(info: &str) -> CommandStats {
        let stats = info.lines().filter_map(|line| {
            let (name, fields) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = fields
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_lowercase(), calls))
        });
        // The bench's own, which Redis counts too: `INFO` and `CONFIG RESETSTAT`.
        let own = |name: &str| name == "info" || name.starts_with("config");
        CommandStats(stats.filter(|(name, _)| !own(name)).collect())
    }

    /// Each command Redis counted (lowercase), with its calls.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(name, calls)| (name.as_str(), *calls))
    }
}

/// Storage `delay` away. The double is async: it runs on a runtime of its own, kept as long as
/// this value.
pub struct Slow {
    double: FakeUpstash,
    pub redis: Redis,
    _runtime: tokio::runtime::Runtime,
}

impl Slow {
    pub fn start(delay: Duration) -> Result<Slow> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("no runtime for the storage double: {e}"))?;
        let redis = Redis::start();
        let double = runtime.block_on(FakeUpstash::start(&redis));
        double.delay(delay);
        Ok(Slow {
            double,
            redis,
            _runtime: runtime,
        })
    }

    pub fn url(&self) -> &str {
        &self.double.url
    }

    /// Empties Redis and its command counters between runs.
    pub fn reset(&self) {
        self.redis.reset();
    }

    /// The app's settings for the double, plus `extra`.
    pub fn env(&self, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
        let settings = self.double.env().into_iter().chain(extra.iter().copied());
        settings
            .map(|(name, value)| (name, value.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_are_read_without_the_benchs_own() {
        let stats = CommandStats::parse(
            "# Commandstats\r\ncmdstat_config|resetstat:calls=1,usec=38\r\ncmdstat_evalsha:calls=3,usec=34,usec_per_call=11.33,rejected_calls=0,failed_calls=3\r\ncmdstat_info:calls=2,usec=9\r\ncmdstat_zadd:calls=2,usec=31,usec_per_call=15.50\r\n",
        );
        assert_eq!(
            stats.iter().collect::<Vec<_>>(),
            [("evalsha", 3), ("zadd", 2)]
        );
    }
}
