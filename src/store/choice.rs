//! Choosing the store from the [`Settings`], and saying why (printed once at start-up).
//!
//! In order:
//! 1. `WAIT_UNTIL_STORE=memory` forces the memory store, whatever else is set.
//! 2. `WAIT_UNTIL_STORE=upstash` forces Upstash: unconfigured (with what to set) when its
//!    settings are missing or unusable, never memory.
//! 3. Usable Upstash settings select Upstash.
//! 4. Unusable ones (a URL that is not http(s)) leave the store unconfigured, never memory: a
//!    typo must not silently keep records in one process.
//! 5. Nothing set: memory locally (`cargo run`, `vercel dev`); on Vercel (`VERCEL=1`)
//!    unconfigured, since memory would lose records between instances.

use super::upstash::UpstashSettings;
use crate::settings::{Settings, shown};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    Memory,
    Upstash(UpstashSettings),
    /// Upstash is wanted but cannot be used; the message says what to set.
    Unconfigured(String),
}

/// The choice, why it was made, and anything worth a line at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub store: StoreChoice,
    pub reason: String,
    pub notes: Vec<String>,
}

const NOT_CONFIGURED: &str = "storage is not configured: set KV_REST_API_URL and \
                              KV_REST_API_TOKEN (add the Upstash integration on Vercel)";
const NOT_HTTP: &str = "KV_REST_API_URL must be an https:// URL";

/// Why the Upstash settings cannot be used.
enum Unusable {
    Missing,
    NotHttp,
}

impl Choice {
    pub fn from_settings(settings: &Settings) -> Self {
        // Rules 1 and 3 need nothing else; rule 2 changes only what a missing setting means.
        let forced = match settings.store.as_deref() {
            None => false,
            Some("upstash") => true,
            Some("memory") => return Self::new(StoreChoice::Memory, "WAIT_UNTIL_STORE=memory"),
            Some(other) => {
                let message = format!(
                    "WAIT_UNTIL_STORE must be `memory` or `upstash`, not `{}`",
                    shown(other)
                );
                let reason = "WAIT_UNTIL_STORE has an unknown value";
                return Self::new(StoreChoice::Unconfigured(message), reason);
            }
        };
        let mut notes = Vec::new();
        let (store, reason) = match upstash(settings, &mut notes) {
            Ok(upstash) if forced => (StoreChoice::Upstash(upstash), "WAIT_UNTIL_STORE=upstash"),
            Ok(upstash) => (StoreChoice::Upstash(upstash), "Upstash settings found"),
            Err(Unusable::NotHttp) => (
                StoreChoice::Unconfigured(NOT_HTTP.into()),
                "the Upstash URL is not an http(s) URL",
            ),
            Err(Unusable::Missing) if forced => (
                StoreChoice::Unconfigured(NOT_CONFIGURED.into()),
                "WAIT_UNTIL_STORE=upstash but no Upstash settings",
            ),
            Err(Unusable::Missing) if settings.on_vercel => (
                StoreChoice::Unconfigured(NOT_CONFIGURED.into()),
                "running on Vercel (VERCEL=1) without Upstash settings; memory would lose \
                 records between instances",
            ),
            Err(Unusable::Missing) => (
                StoreChoice::Memory,
                "no Upstash settings: records live in this process only",
            ),
        };
        Self {
            store,
            reason: reason.into(),
            notes,
        }
    }

    /// A choice made without reading the Upstash settings, so with nothing to note about them.
    fn new(store: StoreChoice, reason: &str) -> Self {
        Self {
            store,
            reason: reason.into(),
            notes: Vec::new(),
        }
    }
}

/// The Upstash settings, when both the URL and the write token are there and the URL is
/// http(s). Without a read-only token, reads use the write token, and a note says so.
fn upstash(settings: &Settings, notes: &mut Vec<String>) -> Result<UpstashSettings, Unusable> {
    let (Some(url), Some(write_token)) = (&settings.upstash_url, &settings.write_token) else {
        return Err(Unusable::Missing);
    };
    if !url.starts_with("https://") && !url.starts_with("http://") {
        return Err(Unusable::NotHttp);
    }
    let read_token = settings.read_token.clone().unwrap_or_else(|| {
        notes.push("KV_REST_API_READ_ONLY_TOKEN is not set: reads use the write token".into());
        write_token.clone()
    });
    Ok(UpstashSettings {
        url: url.trim_end_matches('/').to_string(),
        write_token: write_token.clone(),
        read_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::from_table;

    fn choose(vars: &[(&str, &str)]) -> Choice {
        Choice::from_settings(&from_table(vars))
    }

    fn upstash(choice: &Choice) -> &UpstashSettings {
        match &choice.store {
            StoreChoice::Upstash(settings) => settings,
            other => panic!("expected Upstash, got {other:?}"),
        }
    }

    const SETTINGS: [(&str, &str); 2] = [
        ("KV_REST_API_URL", "https://x.upstash.io/"),
        ("KV_REST_API_TOKEN", "write"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut vars = SETTINGS.to_vec();
        vars.extend_from_slice(extra);
        vars
    }

    #[test]
    fn without_settings_the_memory_store_is_used() {
        assert_eq!(choose(&[]).store, StoreChoice::Memory);
    }

    #[test]
    fn the_upstash_settings_select_upstash_with_both_tokens() {
        let c = choose(&with(&[("KV_REST_API_READ_ONLY_TOKEN", "read")]));
        let s = upstash(&c);
        assert_eq!(
            (
                s.url.as_str(),
                s.write_token.as_str(),
                s.read_token.as_str()
            ),
            ("https://x.upstash.io", "write", "read")
        );
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }

    #[test]
    fn without_a_read_only_token_reads_use_the_write_token_and_a_note_says_so() {
        let c = choose(&SETTINGS);
        assert_eq!(upstash(&c).read_token, "write");
        assert!(
            c.notes[0].contains("reads use the write token"),
            "{:?}",
            c.notes
        );
    }

    #[test]
    fn on_vercel_missing_settings_are_an_error_not_a_fallback() {
        let c = choose(&[("VERCEL", "1")]);
        assert!(
            matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("KV_REST_API_URL"))
        );
        assert!(c.reason.contains("VERCEL=1"), "{}", c.reason);
    }

    #[test]
    fn vercel_dev_without_settings_uses_memory_like_any_local_run() {
        assert_eq!(
            choose(&[("VERCEL", "1"), ("VERCEL_DEV", "1")]).store,
            StoreChoice::Memory
        );
    }

    #[test]
    fn wait_until_store_memory_wins_over_any_upstash_settings() {
        let forced = choose(&with(&[("WAIT_UNTIL_STORE", "memory"), ("VERCEL", "1")]));
        assert_eq!(forced.store, StoreChoice::Memory);
        assert!(forced.notes.is_empty(), "{:?}", forced.notes);
        // Even settings that could not be used do not stand in its way.
        let odd_url = choose(&[
            ("KV_REST_API_URL", "redis://x:6379"),
            ("KV_REST_API_TOKEN", "w"),
            ("WAIT_UNTIL_STORE", "memory"),
        ]);
        assert_eq!(odd_url.store, StoreChoice::Memory);
        assert_eq!(odd_url.reason, "WAIT_UNTIL_STORE=memory");
    }

    #[test]
    fn wait_until_store_upstash_without_settings_is_unconfigured_not_memory() {
        let c = choose(&[("WAIT_UNTIL_STORE", "upstash")]);
        assert!(
            matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("KV_REST_API_URL"))
        );
        let c = choose(&with(&[("WAIT_UNTIL_STORE", "upstash")]));
        assert_eq!(upstash(&c).url, "https://x.upstash.io");
        assert_eq!(c.reason, "WAIT_UNTIL_STORE=upstash");
    }

    #[test]
    fn an_unknown_wait_until_store_is_named_in_the_message() {
        let c = choose(&with(&[("WAIT_UNTIL_STORE", "postgres")]));
        assert!(matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("`postgres`")));
        // Upstash is not used, so its read-only token is not worth a note.
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }

    #[test]
    fn a_url_that_is_not_http_is_refused_not_replaced_by_memory() {
        let vars = [
            ("KV_REST_API_URL", "redis://x:6379"),
            ("KV_REST_API_TOKEN", "w"),
        ];
        let c = choose(&vars);
        assert!(matches!(c.store, StoreChoice::Unconfigured(ref m) if m.contains("https://")));
        let mut forced = vars.to_vec();
        forced.push(("WAIT_UNTIL_STORE", "upstash"));
        assert!(
            matches!(choose(&forced).store, StoreChoice::Unconfigured(ref m) if m.contains("https://"))
        );
    }

    #[test]
    fn a_plain_http_url_is_accepted_for_local_emulators() {
        let c = choose(&[
            ("KV_REST_API_URL", "http://127.0.0.1:8079"),
            ("KV_REST_API_TOKEN", "w"),
        ]);
        assert_eq!(upstash(&c).url, "http://127.0.0.1:8079");
    }
}
