//! Storage for the benchmarks, all from the test kit: a real `redis-server` behind the npm
//! Upstash emulator, and the kit's Upstash TEST DOUBLE told to answer every call after a fixed
//! delay (for "storage is slow"; it still applies the commands to its own Redis).

use crate::layout::Result;
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
