//! Choosing the store from the [`Settings`], and saying why (printed once at start-up).
//!
//! In order:
//! 1. `WAIT_UNTIL_STORE=memory` forces the memory store, whatever else is set.
//! 2. `WAIT_UNTIL_STORE=upstash` forces Upstash: unconfigured (with what to set) when its
//!    settings are missing or unusable, never memory.
//! 3. Usable Upstash settings select Upstash.
//! 4. Unusable ones (half a set, a URL that is not http(s), a token that cannot be a header)
//!    leave the store unconfigured with the variable to fix, never memory: a typo must not
//!    silently keep records in one process.
//! 5. Nothing set, and `.env.local` exists but cannot be read: unconfigured, naming the file.
//! 6. Nothing set: on Vercel (`VERCEL=1`) unconfigured, since memory would lose records between
//!    instances; under `vercel dev` (`VERCEL_DEV=1`) a file in the project, since it starts a
//!    process for every request; else (`cargo run`) memory.

use super::upstash::UpstashSettings;
use super::upstash::settings::Unusable;
use crate::settings::{Settings, shown};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    Memory,
    /// The file [`super::file::DEV_PATH`].
    File,
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
        let upstash = UpstashSettings::from_vars(&settings.upstash, &mut notes)
            .and_then(|upstash| upstash.with_key(settings.key.as_deref()));
        let (store, reason) = match upstash {
            Ok(upstash) if forced => (StoreChoice::Upstash(upstash), "WAIT_UNTIL_STORE=upstash"),
            Ok(upstash) => (StoreChoice::Upstash(upstash), "Upstash settings found"),
            Err(Unusable::Invalid(message)) => (
                StoreChoice::Unconfigured(message),
                "the Upstash settings cannot be used",
            ),
            // Settings may be in the file that cannot be read: memory would lose records
            // quietly, and Upstash "not configured" would send the user to the wrong place.
            Err(Unusable::Missing) if settings.file_problem.is_some() => (
                StoreChoice::Unconfigured(settings.file_problem.clone().unwrap_or_default()),
                "no Upstash settings in the environment, and .env.local cannot be read",
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
            Err(Unusable::Missing) if settings.vercel_dev => (
                StoreChoice::File,
                "no Upstash settings, and vercel dev starts a process for each request: \
                 records are kept in .vercel/dev/requests-newest.json",
            ),
            Err(Unusable::Missing) => (
                StoreChoice::Memory,
                "no Upstash settings: records live in this process only",
            ),
        };
        // Said once: as the store's problem, or else as a note.
        if let Some(problem) = &settings.file_problem
            && store != StoreChoice::Unconfigured(problem.clone())
        {
            notes.push(problem.clone());
        }
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

#[cfg(test)]
mod tests;
