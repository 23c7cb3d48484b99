//! The merge script (`merge.lua`) and how a write calls it: `EVALSHA` with the script's SHA-1,
//! which the server answers from its script cache, and `EVAL` with the whole text when that
//! cache does not have it (`NOSCRIPT`: a new or restarted server; the cache is not persisted).
//! `EVAL` caches it again, so the next write is one `EVALSHA`.
//!
//! No `#!lua flags=allow-key-locking` line: Upstash would then lock only the list's key instead
//! of the whole database, but Redis itself refuses the flag (`Unexpected flag in script
//! shebang`), and this script takes about 0.2 ms of server time per call (BENCHMARKS.md).

use crate::store::{KEEP, KEY};
use once_cell::sync::Lazy;
use serde_json::{Value, json};

/// The script's text, sent with `EVAL`.
pub const TEXT: &str = include_str!("merge.lua");

/// The script's SHA-1 in lowercase hex: its name in the server's cache.
pub static SHA1: Lazy<String> = Lazy::new(|| sha1_hex(TEXT.as_bytes()));

/// SHA-1 names scripts in Redis; ring (already linked for TLS) has it, for uses like this one.
fn sha1_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// How a call names the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `EVALSHA <sha1>`: what every write tries first.
    Cached,
    /// `EVAL <text>`: after `NOSCRIPT`.
    Text,
}

/// The command that merges `records` (each a record's JSON, as `RequestRecord::to_json` writes
/// it): `EVALSHA|EVAL <script> 1 requests:recent 10 <record>…`.
pub fn command(call: Call, records: &[String]) -> Value {
    let (name, script) = match call {
        Call::Cached => ("EVALSHA", SHA1.as_str()),
        Call::Text => ("EVAL", TEXT),
    };
    let mut command = vec![json!(name), json!(script), json!("1"), json!(KEY)];
    command.push(json!(KEEP.to_string()));
    command.extend(records.iter().map(|record| json!(record)));
    Value::Array(command)
}

/// Whether a command error says the server does not have the script cached.
pub fn is_missing(message: &str) -> bool {
    message.starts_with("NOSCRIPT")
}

/// What the script returns: `[added, already]`, two counts that fit the batch they count.
pub fn counts(result: &Value, sent: usize) -> Option<(usize, usize)> {
    let [added, already] = result.as_array()?.as_slice() else {
        return None;
    };
    let added = usize::try_from(added.as_u64()?).ok()?;
    let already = usize::try_from(already.as_u64()?).ok()?;
    (added.checked_add(already)? <= sent).then_some((added, already))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RequestRecord;

    #[test]
    fn sha1_is_lowercase_hex_as_redis_names_scripts() {
        // FIPS 180-2's example; that Redis names the script by the same digest is checked
        // against redis-server (`SCRIPT LOAD`) in the client's tests.
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(*SHA1, sha1_hex(TEXT.as_bytes()));
    }

    #[test]
    fn a_call_carries_the_key_the_bound_and_each_record() {
        let records = [1, 2].map(|n| RequestRecord::numbered(n).to_json());
        let cached = command(Call::Cached, &records);
        assert_eq!(
            cached.as_array().unwrap()[..5],
            [
                json!("EVALSHA"),
                json!(*SHA1),
                json!("1"),
                json!(KEY),
                json!("10")
            ]
        );
        assert_eq!(cached[5], json!(records[0]));
        assert_eq!(cached[6], json!(records[1]));
        let text = command(Call::Text, &records);
        assert_eq!((&text[0], &text[1]), (&json!("EVAL"), &json!(TEXT)));
        assert_eq!(
            text.as_array().unwrap()[2..],
            cached.as_array().unwrap()[2..]
        );
    }

    #[test]
    fn only_noscript_means_the_script_is_missing() {
        assert!(is_missing("NOSCRIPT No matching script. Please use EVAL."));
        assert!(!is_missing("ERR Error running script"));
        assert!(!is_missing("WRONGTYPE NOSCRIPT"));
    }

    #[test]
    fn counts_are_two_that_fit_the_batch() {
        assert_eq!(counts(&json!([2, 1]), 3), Some((2, 1)));
        assert_eq!(counts(&json!([0, 0]), 0), Some((0, 0)));
        for wrong in [
            json!([2, 2]),
            json!([1]),
            json!([1, 1, 1]),
            json!([-1, 1]),
            json!(["1", 1]),
            json!({"added": 1}),
            json!(null),
        ] {
            assert_eq!(counts(&wrong, 3), None, "{wrong}");
        }
    }
}
