//! A real `redis-server` of our own on a free port: no persistence, gone with its owner. Real
//! Redis, so that what the app stores is read back byte for byte, never a model of it.

use crate::{free_port, missing};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The sorted set the app keeps its newest records in (its default key).
pub const RECENT: &str = "requests:newest";

pub struct Redis {
    child: Child,
    pub port: u16,
}

impl Redis {
    /// Starts it and waits until it answers `PING`.
    pub fn start() -> Redis {
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| missing(format_args!("redis-server could not start ({e})")));
        let redis = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while redis.try_cli(&["PING"]).as_deref() != Some("PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis-cli --raw` output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args)
            .unwrap_or_else(|| panic!("redis-cli {args:?} failed"))
    }

    /// How many entries the app's sorted set holds.
    pub fn card(&self) -> usize {
        self.cli(&["ZCARD", RECENT])
            .parse()
            .expect("ZCARD is a number")
    }

    /// The app's sorted set, newest first.
    pub fn entries(&self) -> Vec<String> {
        let out = self.cli(&["ZRANGE", RECENT, "0", "-1", "REV"]);
        out.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The ids of the app's sorted set, newest first; panics on an entry that is not a record's JSON.
    pub fn ids(&self) -> Vec<String> {
        self.entries()
            .iter()
            .map(|entry| {
                let record: serde_json::Value = serde_json::from_str(entry).expect("a record");
                record["id"].as_str().expect("an id").to_string()
            })
            .collect()
    }

    /// Each command Redis ran since start or the last [`Redis::reset_counters`] (lowercase, as
    /// `INFO commandstats` names them), with its calls, those run by scripts included: what
    /// Upstash bills. Our own looks at the counters (`INFO`) and their reset (`CONFIG
    /// RESETSTAT`) are not the app's, and are left out.
    pub fn command_stats(&self) -> BTreeMap<String, u64> {
        command_stats(&self.cli(&["INFO", "commandstats"]))
    }

    /// How many times Redis ran `command` since start or the last reset.
    pub fn calls(&self, command: &str) -> u64 {
        let stats = self.command_stats();
        stats.get(&command.to_lowercase()).copied().unwrap_or(0)
    }

    /// Every command Redis ran since start or the last reset ([`Redis::command_stats`]).
    pub fn billed(&self) -> u64 {
        self.command_stats().values().sum()
    }

    /// Zeroes the command counters, keeping the data.
    pub fn reset_counters(&self) {
        self.cli(&["CONFIG", "RESETSTAT"]);
    }

    /// How many changes Redis made to its data since it started (`INFO persistence`'s
    /// `rdb_changes_since_last_save`; it never saves): a member added or removed counts one, a
    /// command that changes nothing (a `ZADD` of members stored already) none.
    pub fn changes(&self) -> u64 {
        let info = self.cli(&["INFO", "persistence"]);
        info.lines()
            .find_map(|line| line.strip_prefix("rdb_changes_since_last_save:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("INFO persistence counts changes")
    }

    /// Empties every key and the command counters, so that one server serves several runs.
    pub fn reset(&self) {
        self.cli(&["FLUSHALL"]);
        self.reset_counters();
    }

    fn try_cli(&self, args: &[&str]) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw"])
            .args(args)
            .output()
            .unwrap_or_else(|e| missing(format_args!("redis-cli could not start ({e})")));
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }
}

/// `INFO commandstats` read as each command's calls, less our own (`info`, `config|…`).
fn command_stats(info: &str) -> BTreeMap<String, u64> {
    let stats = info.lines().filter_map(|line| {
        let (name, fields) = line.strip_prefix("cmdstat_")?.split_once(':')?;
        let calls = fields.strip_prefix("calls=")?.split(',').next()?;
        Some((name.to_lowercase(), calls.parse().ok()?))
    });
    let own = |name: &str| name == "info" || name.starts_with("config");
    stats.filter(|(name, _)| !own(name)).collect()
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_are_read_without_our_own_looks_and_resets() {
        let stats = command_stats(
            "# Commandstats\r\ncmdstat_config|resetstat:calls=1,usec=38\r\ncmdstat_evalsha:calls=3,usec=34,usec_per_call=11.33,rejected_calls=0,failed_calls=3\r\ncmdstat_info:calls=2,usec=9\r\ncmdstat_zadd:calls=2,usec=31,usec_per_call=15.50\r\n",
        );
        let expected = [("evalsha".to_string(), 3), ("zadd".to_string(), 2)];
        assert_eq!(stats, BTreeMap::from(expected));
    }
}
