//! The process-wide state: settings, store and overflow grouping, built once on first use.
//!
//! A Vercel Function instance serves many requests; everything here is made once per instance
//! (once per cold start), never per request.

use crate::background::overflow::{Grouping, Overflow};
use crate::settings::Settings;
use crate::source::SourceLinks;
use crate::store::{Backend, Choice, Store};
use once_cell::sync::Lazy;

pub struct App {
    store: Store,
    overflow: Overflow,
    success_lines: bool,
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
        let store = Store::from_choice(store);
        let overflow = Overflow::new(store.kind(), Grouping::default());
        let (source, source_note) = SourceLinks::from_settings(&settings);
        notes.extend(settings.notes);
        notes.extend(source_note);
        Self {
            store,
            overflow,
            success_lines: settings.success_lines,
            source,
            reason,
            notes,
        }
    }

    /// The instance's app, configured from the environment on first use.
    pub fn global() -> &'static App {
        &APP
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where records refused under overload are grouped into failure lines.
    pub fn overflow(&self) -> &Overflow {
        &self.overflow
    }

    /// Whether each stored record leaves a success line.
    pub fn success_lines(&self) -> bool {
        self.success_lines
    }

    /// Where the page links for the source and the deploy steps.
    pub fn source(&self) -> &SourceLinks {
        &self.source
    }

    /// The start-up lines: which store is in use and why, and any configuration notes.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!("storage: {} ({})", self.store.kind(), self.reason)];
        if let Backend::Unconfigured(message) = self.store.backend() {
            lines.push(format!("storage problem: {message}"));
        }
        lines.extend(self.notes.iter().map(|note| format!("note: {note}")));
        lines
    }
}
