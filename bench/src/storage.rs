//! Storage for the benchmarks, all from the test kit: a real `redis-server` behind the npm
//! Upstash emulator, and the kit's Upstash TEST DOUBLE told to answer every call after a fixed
//! delay (for "storage is slow"; it still applies the commands to its own Redis).

use crate::layout::Result;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;
use testkit::emulator::{Emulator, TOKEN};
use testkit::fake_upstash::FakeUpstash;
use testkit::redis::Redis;

/// The npm emulator in front of a real Redis: what the throughput benchmark writes through.
pub struct Emulated {
    // Dropped in this order: the emulator before the Redis it talks to.
    emulator: Emulator,
    redis: Redis,
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

    /// Empties Redis, its script cache, its command log and its command counters between
    /// runs, so that each run starts as on a freshly started Redis (the first script call of a
    /// run gets `NOSCRIPT` and sends the script's text).
    pub fn reset(&self) {
        self.redis.cli(&["SCRIPT", "FLUSH"]);
        self.redis.cli(&["SLOWLOG", "RESET"]);
        self.redis.reset();
    }

    /// The write calls Redis ran since the last reset, whichever way the binary writes: `LPUSH`
    /// (the app before the merge script, the official example) or the merge script (`EVALSHA`,
    /// and `EVAL` after `NOSCRIPT`). Each is one storage call (one HTTP request to storage).
    pub fn write_calls(&self) -> u64 {
        WRITES.iter().map(|name| self.redis.calls(name)).sum()
    }

    /// Redis' own count and time of every command it ran since the last reset, those a script
    /// ran included (`INFO commandstats`).
    pub fn command_stats(&self) -> CommandStats {
        CommandStats::parse(&self.redis.cli(&["INFO", "commandstats"]))
    }

    /// From now on Redis logs every command with its arguments (its slow log with a threshold
    /// of 0 µs and room for a million entries): what [`Emulated::logged_writes`] reads. The
    /// entry is made after a command's time is taken, so a client's command is timed as
    /// without it; a script's own commands are logged too, inside the script's time.
    pub fn log_commands(&self) {
        self.redis
            .cli(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
        self.redis
            .cli(&["CONFIG", "SET", "slowlog-max-len", "1000000"]);
    }

    /// The storage calls logged since the last reset, oldest first: each write command
    /// (`LPUSH`, `EVALSHA`, `EVAL`) with the records it carried and Redis' time for the call
    /// (an `LTRIM` counts with the `LPUSH` before it: they are one pipeline).
    pub fn logged_writes(&self) -> Result<Vec<LoggedWrite>> {
        let output = Command::new("redis-cli")
            .args(["-p", &self.redis.port.to_string(), "--json"])
            .args(["SLOWLOG", "GET", "-1"])
            .output()
            .map_err(|e| format!("redis-cli: {e}"))?;
        // Lossy: the log cuts long arguments at 128 bytes, maybe inside a character. (Not
        // `--quoted-json`: redis-cli 7.0 escapes quotes twice there, which is not JSON.)
        let text = String::from_utf8_lossy(&output.stdout);
        let log: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("redis-cli SLOWLOG GET printed no JSON: {e}"))?;
        let entries = log.as_array().ok_or("SLOWLOG GET is not a list")?;
        Ok(writes_in(entries.iter().rev()))
    }
}

/// A storage call as Redis logged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedWrite {
    pub records: u64,
    /// Redis' time for it in µs: the script's, or `LPUSH`'s and `LTRIM`'s together.
    pub usec: u64,
}

/// The storage calls among log entries (`[id, time, µs, [args…], client, name]`), oldest first.
fn writes_in<'a>(entries: impl Iterator<Item = &'a serde_json::Value>) -> Vec<LoggedWrite> {
    let mut writes: Vec<LoggedWrite> = Vec::new();
    for entry in entries {
        let usec = entry[2].as_u64().unwrap_or(0);
        if let Some(records) = records_carried(&entry[3]) {
            writes.push(LoggedWrite { records, usec });
        } else if entry[3][0]
            .as_str()
            .is_some_and(|name| name.eq_ignore_ascii_case("LTRIM"))
            && let Some(last) = writes.last_mut()
        {
            last.usec += usec;
        }
    }
    writes
}

/// The commands that write records.
const WRITES: [&str; 3] = ["LPUSH", "EVALSHA", "EVAL"];

/// The records a logged write carried: `LPUSH key r…` or `EVALSHA|EVAL script 1 key keep r…`;
/// `None` for any other command. The log keeps 32 arguments, the last then saying how many more
/// there were (`... (N more arguments)`).
fn records_carried(args: &serde_json::Value) -> Option<u64> {
    let args = args.as_array()?;
    let name = args.first()?.as_str()?.to_uppercase();
    let before_records = match name.as_str() {
        "LPUSH" => 2,
        "EVALSHA" | "EVAL" => 5,
        _ => return None,
    };
    let more = args
        .last()
        .and_then(|last| {
            last.as_str()?
                .strip_prefix("... (")?
                .strip_suffix(" more arguments)")
        })
        .and_then(|n| n.parse::<u64>().ok());
    let count = match more {
        Some(more) => args.len() as u64 - 1 + more,
        None => args.len() as u64,
    };
    Some(count.saturating_sub(before_records))
}

/// `INFO commandstats`: per command (lowercase), how many calls and how many µs in all.
#[derive(Debug, Default, Clone)]
pub struct CommandStats(BTreeMap<String, (u64, u64)>);

impl CommandStats {
    fn parse(info: &str) -> CommandStats {
        let mut stats = BTreeMap::new();
        for line in info.lines() {
            let Some((name, fields)) = line
                .strip_prefix("cmdstat_")
                .and_then(|rest| rest.split_once(':'))
            else {
                continue;
            };
            let field = |key: &str| {
                fields
                    .split(',')
                    .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            stats.insert(name.to_lowercase(), (field("calls"), field("usec")));
        }
        CommandStats(stats)
    }

    /// The commands Redis counted (lowercase).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Calls of `names` together.
    pub fn calls(&self, names: &[&str]) -> u64 {
        names
            .iter()
            .map(|n| self.0.get(*n).map_or(0, |s| s.0))
            .sum()
    }

    /// µs Redis spent in `names` together.
    pub fn usec(&self, names: &[&str]) -> u64 {
        names
            .iter()
            .map(|n| self.0.get(*n).map_or(0, |s| s.1))
            .sum()
    }
}

/// Storage `delay` away. The double is async: it runs on a runtime of its own, kept as long as
/// this value.
pub struct Slow {
    double: FakeUpstash,
    _redis: Redis,
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
            _redis: redis,
            _runtime: runtime,
        })
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
    use serde_json::json;

    #[test]
    fn commandstats_are_read() {
        let stats = CommandStats::parse(
            "# Commandstats\r\ncmdstat_evalsha:calls=3,usec=34,usec_per_call=11.33,rejected_calls=0,failed_calls=3\r\ncmdstat_lpush:calls=2,usec=31,usec_per_call=15.50\r\n",
        );
        assert_eq!(stats.calls(&["evalsha"]), 3);
        assert_eq!(stats.calls(&["evalsha", "lpush", "eval"]), 5);
        assert_eq!(stats.usec(&["evalsha", "lpush"]), 65);
        assert_eq!(stats.names().collect::<Vec<_>>(), ["evalsha", "lpush"]);
    }

    #[test]
    fn the_records_a_logged_write_carried() {
        assert_eq!(records_carried(&json!(["LPUSH", "k", "a", "b"])), Some(2));
        assert_eq!(
            records_carried(&json!(["evalsha", "sha", "1", "k", "10", "a"])),
            Some(1)
        );
        let mut long = vec![json!("LPUSH"), json!("k")];
        long.extend((0..29).map(|i| json!(i.to_string())));
        long.push(json!("... (11 more arguments)"));
        assert_eq!(records_carried(&json!(long)), Some(40));
        assert_eq!(records_carried(&json!(["LRANGE", "k", "0", "9"])), None);
    }

    #[test]
    fn an_ltrim_counts_with_the_lpush_before_it() {
        let log = json!([
            [1, 0, 4, ["LPUSH", "k", "a", "b"], "c", ""],
            [2, 0, 2, ["LTRIM", "k", "0", "9"], "c", ""],
            [3, 0, 30, ["EVALSHA", "s", "1", "k", "10", "a"], "c", ""],
            [4, 0, 5, ["LRANGE", "k", "0", "9"], "?:0", ""]
        ]);
        let writes = writes_in(log.as_array().unwrap().iter());
        assert_eq!(
            writes,
            [
                LoggedWrite {
                    records: 2,
                    usec: 6
                },
                LoggedWrite {
                    records: 1,
                    usec: 30
                }
            ]
        );
    }
}
