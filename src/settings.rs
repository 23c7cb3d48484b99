//! Settings: what the environment says, read once per process. Choosing a store from them is
//! [`crate::store::choice`]'s job; this module only reads.
//!
//! - Values come from the process environment, then `.env.local` (what `vercel env pull
//!   .env.local` writes) for what the environment lacks; the real environment wins. The file is
//!   read, never loaded into the process environment.
//! - A value that is empty or only spaces counts as unset; values are trimmed.
//! - Upstash settings come from `KV_REST_API_URL`, `KV_REST_API_TOKEN` (writes) and
//!   `KV_REST_API_READ_ONLY_TOKEN` (reads), as Vercel's Upstash integration sets them, or from
//!   `UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN`.
//! - Tokens never appear in `Debug` output or in any message built here.

use std::collections::HashMap;
use std::fmt;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// `KV_REST_API_URL`, else `UPSTASH_REDIS_REST_URL`.
    pub upstash_url: Option<String>,
    /// `KV_REST_API_TOKEN`, else `UPSTASH_REDIS_REST_TOKEN`.
    pub write_token: Option<String>,
    /// `KV_REST_API_READ_ONLY_TOKEN`.
    pub read_token: Option<String>,
    /// `WAIT_UNTIL_STORE`, as written: `memory` or `upstash` forces a backend.
    pub store: Option<String>,
    /// Running on Vercel (`VERCEL=1`), and not under `vercel dev` (which also sets
    /// `VERCEL_DEV=1` and runs locally).
    pub on_vercel: bool,
    /// Whether each stored record leaves a success line (`WAIT_UNTIL_SUCCESS_LINES=off` turns
    /// them off; failure lines are never turned off).
    pub success_lines: bool,
    /// Values that were not understood and what was done instead, for the start-up lines.
    pub notes: Vec<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |token: &Option<String>| token.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("upstash_url", &self.upstash_url)
            .field("write_token", &secret(&self.write_token))
            .field("read_token", &secret(&self.read_token))
            .field("store", &self.store)
            .field("on_vercel", &self.on_vercel)
            .field("success_lines", &self.success_lines)
            .field("notes", &self.notes)
            .finish()
    }
}

impl Settings {
    /// The process environment, then `.env.local` in the current directory.
    pub fn from_env() -> Self {
        let file: HashMap<String, String> = dotenvy::from_filename_iter(".env.local")
            .map(|entries| entries.filter_map(Result::ok).collect())
            .unwrap_or_default();
        Self::from_lookup(|name| std::env::var(name).ok().or_else(|| file.get(name).cloned()))
    }

    /// Settings from any source of variables (the environment, a file, a test's table).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let first = |names: &[&str]| names.iter().find_map(|name| get(name));
        let mut notes = Vec::new();
        let success_lines = match get("WAIT_UNTIL_SUCCESS_LINES").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                notes.push(format!(
                    "WAIT_UNTIL_SUCCESS_LINES must be `on` or `off`, not `{}`: success lines stay on",
                    shown(other)
                ));
                true
            }
        };
        Self {
            upstash_url: first(&["KV_REST_API_URL", "UPSTASH_REDIS_REST_URL"]),
            write_token: first(&["KV_REST_API_TOKEN", "UPSTASH_REDIS_REST_TOKEN"]),
            read_token: get("KV_REST_API_READ_ONLY_TOKEN"),
            store: get("WAIT_UNTIL_STORE"),
            on_vercel: get("VERCEL").as_deref() == Some("1")
                && get("VERCEL_DEV").as_deref() != Some("1"),
            success_lines,
            notes,
        }
    }
}

/// A value as it may appear in a message: its first 32 characters.
pub(crate) fn shown(value: &str) -> String {
    value.chars().take(32).collect()
}

#[cfg(test)]
pub(crate) fn from_table(vars: &[(&str, &str)]) -> Settings {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    Settings::from_lookup(|name| vars.get(name).map(|value| value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vercel_kv_names_win_over_the_upstash_names() {
        let s = from_table(&[
            ("KV_REST_API_URL", "https://kv"),
            ("UPSTASH_REDIS_REST_URL", "https://upstash"),
            ("KV_REST_API_TOKEN", "kv-token"),
            ("UPSTASH_REDIS_REST_TOKEN", "upstash-token"),
        ]);
        assert_eq!(s.upstash_url.as_deref(), Some("https://kv"));
        assert_eq!(s.write_token.as_deref(), Some("kv-token"));
    }

    #[test]
    fn the_upstash_names_are_read_when_the_kv_names_are_missing() {
        let s = from_table(&[
            ("UPSTASH_REDIS_REST_URL", "https://upstash"),
            ("UPSTASH_REDIS_REST_TOKEN", "upstash-token"),
        ]);
        assert_eq!(s.upstash_url.as_deref(), Some("https://upstash"));
        assert_eq!(s.write_token.as_deref(), Some("upstash-token"));
        assert_eq!(s.read_token, None);
    }

    #[test]
    fn values_are_trimmed_and_blank_ones_are_unset() {
        let s = from_table(&[
            ("KV_REST_API_URL", "  https://kv  "),
            ("KV_REST_API_TOKEN", "   "),
            ("UPSTASH_REDIS_REST_TOKEN", "fallback"),
            ("WAIT_UNTIL_STORE", ""),
        ]);
        assert_eq!(s.upstash_url.as_deref(), Some("https://kv"));
        assert_eq!(s.write_token.as_deref(), Some("fallback"));
        assert_eq!(s.store, None);
    }

    #[test]
    fn vercel_means_deployed_unless_vercel_dev_says_local() {
        assert!(!from_table(&[]).on_vercel);
        assert!(from_table(&[("VERCEL", "1")]).on_vercel);
        assert!(!from_table(&[("VERCEL", "1"), ("VERCEL_DEV", "1")]).on_vercel);
    }

    #[test]
    fn success_lines_are_on_unless_turned_off() {
        assert!(from_table(&[]).success_lines);
        assert!(from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "on")]).success_lines);
        assert!(!from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "off")]).success_lines);
        let odd = from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "quiet")]);
        assert!(odd.success_lines);
        assert!(odd.notes[0].contains("`quiet`"), "{:?}", odd.notes);
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let s = from_table(&[
            ("KV_REST_API_URL", "https://x"),
            ("KV_REST_API_TOKEN", "s3cret-write"),
            ("KV_REST_API_READ_ONLY_TOKEN", "s3cret-read"),
        ]);
        let shown = format!("{s:?}");
        assert!(
            shown.contains("https://x") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
