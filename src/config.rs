//! Configuration, read once per process from the environment and `.env.local`.
//!
//! - Upstash settings come from `KV_REST_API_URL`, `KV_REST_API_TOKEN` (writes) and
//!   `KV_REST_API_READ_ONLY_TOKEN` (reads), as Vercel's Upstash integration sets them, or from
//!   `UPSTASH_REDIS_REST_URL` / `UPSTASH_REDIS_REST_TOKEN`. Without a read-only token, reads use
//!   the write token, and [`Config::notes`] says so.
//! - `.env.local` (what `vercel env pull .env.local` writes) fills in what the real environment
//!   lacks; the real environment wins. It is read, never loaded into the process environment.
//! - `WAIT_UNTIL_STORE=memory|upstash` forces a backend. On Vercel (`VERCEL=1`, but not under
//!   `vercel dev`, which sets `VERCEL_DEV=1`) without Upstash settings there is no silent
//!   fallback to per-instance memory: the store is unconfigured.
//! - Tokens never appear in `Debug` output or in any message built here.

use std::collections::HashMap;
use std::fmt;

/// Which store serves this process, and why: printed once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub store: StoreChoice,
    pub reason: String,
    /// Things worth one line at start-up (e.g. reads falling back to the write token).
    pub notes: Vec<String>,
    /// Whether each stored record leaves a success line (`WAIT_UNTIL_SUCCESS_LINES=off`
    /// turns them off; failure lines are never turned off).
    pub success_lines: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    Memory,
    Upstash(UpstashSettings),
    /// Upstash is wanted but cannot be used; the message says what to set.
    Unconfigured(String),
}

#[derive(Clone, PartialEq, Eq)]
pub struct UpstashSettings {
    /// The REST base URL, without a trailing slash.
    pub url: String,
    pub write_token: String,
    pub read_token: String,
}

impl fmt::Debug for UpstashSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstashSettings")
            .field("url", &self.url)
            .field("write_token", &"<redacted>")
            .field("read_token", &"<redacted>")
            .finish()
    }
}

const NOT_CONFIGURED: &str = "storage is not configured: set KV_REST_API_URL and \
                              KV_REST_API_TOKEN (add the Upstash integration on Vercel)";

impl Config {
    /// The process environment, then `.env.local` in the current directory.
    pub fn from_env() -> Self {
        let file: HashMap<String, String> = dotenvy::from_filename_iter(".env.local")
            .map(|entries| entries.filter_map(Result::ok).collect())
            .unwrap_or_default();
        Self::from_lookup(|name| {
            std::env::var(name)
                .ok()
                .or_else(|| file.get(name).cloned())
                .filter(|value| !value.trim().is_empty())
        })
    }

    fn unconfigured(message: &str, reason: &str) -> Self {
        Self {
            store: StoreChoice::Unconfigured(message.into()),
            reason: reason.into(),
            notes: Vec::new(),
            success_lines: true,
        }
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut config = Self::store_from(&lookup);
        config.success_lines = match lookup("WAIT_UNTIL_SUCCESS_LINES").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                config.notes.push(format!(
                    "WAIT_UNTIL_SUCCESS_LINES must be `on` or `off`, not `{}`: success lines stay on",
                    other.chars().take(32).collect::<String>()
                ));
                true
            }
        };
        config
    }

    fn store_from(lookup: &impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| names.iter().find_map(|name| lookup(name));
        let url = first(&["KV_REST_API_URL", "UPSTASH_REDIS_REST_URL"]);
        let write_token = first(&["KV_REST_API_TOKEN", "UPSTASH_REDIS_REST_TOKEN"]);
        let read_token = lookup("KV_REST_API_READ_ONLY_TOKEN");
        // `vercel dev` runs locally: per-process memory is what a developer expects there.
        let on_vercel = lookup("VERCEL").as_deref() == Some("1")
            && lookup("VERCEL_DEV").as_deref() != Some("1");

        let mut notes = Vec::new();
        let upstash = match (url, write_token) {
            (Some(url), Some(_)) if !url.starts_with("https://") && !url.starts_with("http://") => {
                return Self::unconfigured(
                    "KV_REST_API_URL must be an https:// URL",
                    "the Upstash URL is not an http(s) URL",
                );
            }
            (Some(url), Some(write_token)) => {
                let read_token = read_token.unwrap_or_else(|| {
                    notes.push(
                        "KV_REST_API_READ_ONLY_TOKEN is not set: reads use the write token".into(),
                    );
                    write_token.clone()
                });
                let url = url.trim().trim_end_matches('/').to_string();
                Some(UpstashSettings {
                    url,
                    write_token,
                    read_token,
                })
            }
            _ => None,
        };

        let (store, reason) = match (lookup("WAIT_UNTIL_STORE").as_deref(), upstash) {
            (Some("memory"), _) => (StoreChoice::Memory, "WAIT_UNTIL_STORE=memory".to_string()),
            (Some("upstash"), Some(settings)) => (
                StoreChoice::Upstash(settings),
                "WAIT_UNTIL_STORE=upstash".into(),
            ),
            (Some("upstash"), None) => (
                StoreChoice::Unconfigured(NOT_CONFIGURED.into()),
                "WAIT_UNTIL_STORE=upstash but no Upstash settings".into(),
            ),
            (Some(other), _) => (
                StoreChoice::Unconfigured(format!(
                    "WAIT_UNTIL_STORE must be `memory` or `upstash`, not `{}`",
                    other.chars().take(32).collect::<String>()
                )),
                "WAIT_UNTIL_STORE has an unknown value".into(),
            ),
            (None, Some(settings)) => (
                StoreChoice::Upstash(settings),
                "Upstash settings found".into(),
            ),
            (None, None) if on_vercel => (
                StoreChoice::Unconfigured(NOT_CONFIGURED.into()),
                "running on Vercel (VERCEL=1) without Upstash settings; memory would lose \
                 records between instances"
                    .into(),
            ),
            (None, None) => (
                StoreChoice::Memory,
                "no Upstash settings: records live in this process only".into(),
            ),
        };
        Self {
            store,
            reason,
            notes,
            success_lines: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    fn upstash(config: &Config) -> &UpstashSettings {
        match &config.store {
            StoreChoice::Upstash(settings) => settings,
            other => panic!("expected Upstash, got {other:?}"),
        }
    }

    #[test]
    fn without_settings_the_memory_store_is_used() {
        assert_eq!(config(&[]).store, StoreChoice::Memory);
    }

    #[test]
    fn the_vercel_kv_variables_select_upstash_with_both_tokens() {
        let c = config(&[
            ("KV_REST_API_URL", "https://x.upstash.io/"),
            ("KV_REST_API_TOKEN", "write"),
            ("KV_REST_API_READ_ONLY_TOKEN", "read"),
        ]);
        let s = upstash(&c);
        assert_eq!(
            (
                s.url.as_str(),
                s.write_token.as_str(),
                s.read_token.as_str()
            ),
            ("https://x.upstash.io", "write", "read")
        );
        assert!(c.notes.is_empty());
    }

    #[test]
    fn the_upstash_variables_work_too_and_reads_fall_back_to_the_write_token() {
        let c = config(&[
            ("UPSTASH_REDIS_REST_URL", "https://y"),
            ("UPSTASH_REDIS_REST_TOKEN", "t"),
        ]);
        assert_eq!(upstash(&c).read_token, "t");
        assert!(
            c.notes[0].contains("reads use the write token"),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn on_vercel_missing_settings_are_an_error_not_a_fallback() {
        let c = config(&[("VERCEL", "1")]);
        assert!(
            matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("KV_REST_API_URL"))
        );
    }

    #[test]
    fn vercel_dev_without_settings_uses_memory_like_any_local_run() {
        assert_eq!(
            config(&[("VERCEL", "1"), ("VERCEL_DEV", "1")]).store,
            StoreChoice::Memory
        );
    }

    #[test]
    fn wait_until_store_forces_a_backend() {
        let with_settings = [("KV_REST_API_URL", "https://x"), ("KV_REST_API_TOKEN", "w")];
        let mut forced = with_settings.to_vec();
        forced.push(("WAIT_UNTIL_STORE", "memory"));
        assert_eq!(config(&forced).store, StoreChoice::Memory);
        let c = config(&[("WAIT_UNTIL_STORE", "upstash")]);
        assert!(matches!(c.store, StoreChoice::Unconfigured(_)));
        let c = config(&[("WAIT_UNTIL_STORE", "postgres")]);
        assert!(matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("postgres")));
    }

    #[test]
    fn a_url_that_is_not_http_is_refused() {
        let c = config(&[
            ("KV_REST_API_URL", "redis://x:6379"),
            ("KV_REST_API_TOKEN", "w"),
        ]);
        assert!(matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("https://")));
    }

    #[test]
    fn success_lines_are_on_unless_turned_off() {
        assert!(config(&[]).success_lines);
        assert!(config(&[("WAIT_UNTIL_SUCCESS_LINES", "on")]).success_lines);
        assert!(!config(&[("WAIT_UNTIL_SUCCESS_LINES", "off")]).success_lines);
        let odd = config(&[("WAIT_UNTIL_SUCCESS_LINES", "quiet")]);
        assert!(odd.success_lines);
        assert!(odd.notes[0].contains("`quiet`"), "{:?}", odd.notes);
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let c = config(&[
            ("KV_REST_API_URL", "https://x"),
            ("KV_REST_API_TOKEN", "s3cret-token"),
        ]);
        assert!(!format!("{c:?}").contains("s3cret-token"));
    }
}
