//! The process-wide state: configuration, store and overflow grouping, built once on first use.
//!
//! A Vercel Function instance serves many requests; everything here is made once per instance
//! (once per cold start), never per request.

use crate::background::overflow::{Grouping, Overflow};
use crate::config::Config;
use crate::store::{Backend, Store};
use once_cell::sync::Lazy;

pub struct App {
    config: Config,
    store: Store,
    overflow: Overflow,
}

static APP: Lazy<App> = Lazy::new(|| App::new(Config::from_env()));

impl App {
    pub fn new(config: Config) -> Self {
        let store = Store::from_choice(&config.store);
        let overflow = Overflow::new(store.kind(), Grouping::default());
        Self {
            config,
            store,
            overflow,
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
        self.config.success_lines
    }

    /// The start-up lines: which store is in use and why, and any configuration notes.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "storage: {} ({})",
            self.store.kind(),
            self.config.reason
        )];
        if let Backend::Unconfigured(message) = self.store.backend() {
            lines.push(format!("storage problem: {message}"));
        }
        lines.extend(self.config.notes.iter().map(|note| format!("note: {note}")));
        lines
    }
}
