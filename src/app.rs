//! The process-wide state: settings, the store behind its after-response writer, and the
//! source links, built once on first use.
//!
//! A Vercel Function instance serves many requests; everything here is made once per instance
//! (once per cold start), never per request.

use crate::settings::Settings;
use crate::source::SourceLinks;
use crate::store::upstash::REQUEST_TIMEOUT;
use crate::store::{Backend, Choice, Store};
use after_response::{AfterResponse, Config, Retry};
use once_cell::sync::Lazy;
use std::time::Duration;

/// The `event` of the app's failure lines, which `replay` looks for: the same as before the
/// writer was a crate, so lines logged then are still replayed.
pub const WRITE_FAILED: &str = "wait_until.write_failed";

pub struct App {
    writer: AfterResponse<Store>,
    source: SourceLinks,
    /// Why this store was chosen, and notes on the settings, for the start-up lines.
    reason: String,
    notes: Vec<String>,
}

static APP: Lazy<App> = Lazy::new(|| App::new(Settings::from_env()));

impl App {
    pub fn new(settings: Settings) -> Self {
        let Choice {
            store,
            reason,
            mut notes,
        } = Choice::from_settings(&settings);
        let (source, source_note) = SourceLinks::from_settings(&settings);
        notes.extend(settings.notes);
        notes.extend(source_note);
        Self {
            writer: writer(Store::from_choice(store), settings.success_lines),
            source,
            reason,
            notes,
        }
    }

    /// The instance's app, configured from the environment on first use.
    pub fn global() -> &'static App {
        &APP
    }

    /// Writes records after the response (or awaited), batched, bounded and retried.
    pub fn writer(&self) -> &AfterResponse<Store> {
        &self.writer
    }

    pub fn store(&self) -> &Store {
        self.writer.sink()
    }

    /// Where the page links for the source and the deploy steps.
    pub fn source(&self) -> &SourceLinks {
        &self.source
    }

    /// The start-up lines: which store is in use and why, and any configuration notes.
    pub fn describe(&self) -> Vec<String> {
        let store = self.store();
        let mut lines = vec![format!("storage: {} ({})", store.kind(), self.reason)];
        if let Backend::Unconfigured(message) = store.backend() {
            lines.push(format!("storage problem: {message}"));
        }
        lines.extend(self.notes.iter().map(|note| format!("note: {note}")));
        lines
    }
}

/// The app's writer settings: the crate's, with the app's failure event, and each attempt cut
/// a second after the client's own timeout, which ends a slow call first, in its own words
/// ("storage timed out"): the crate's cut is only the backstop.
pub fn config(success_lines: bool) -> Config {
    let retry = Retry {
        attempt_timeout: REQUEST_TIMEOUT + Duration::from_secs(1),
        ..Retry::default()
    };
    Config {
        success_lines,
        event: WRITE_FAILED,
        retry,
        ..Config::default()
    }
}

/// The app's writer on `store`.
pub fn writer(store: Store, success_lines: bool) -> AfterResponse<Store> {
    // Only zero bounds are refused, and the app's have none (every test builds one).
    AfterResponse::with_config(store, config(success_lines)).expect("the app's bounds")
}
