//! The process-wide state: configuration and store, built once on first use.
//!
//! A Vercel Function instance serves many requests; everything here is made once per instance
//! (once per cold start), never per request.

use crate::config::Config;
use crate::store::{Backend, Store};
use once_cell::sync::Lazy;

pub struct App {
    config: Config,
    store: Store,
}

static APP: Lazy<App> = Lazy::new(|| App::new(Config::from_env()));

impl App {
    pub fn new(config: Config) -> Self {
        let store = Store::from_choice(&config.store);
        Self { config, store }
    }

    /// The instance's app, configured from the environment on first use.
    pub fn global() -> &'static App {
        &APP
    }

    pub fn store(&self) -> &Store {
        &self.store
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
