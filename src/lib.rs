//! The domain of the wait-until API: the record, its storage, configuration and HTTP helpers.
//!
//! Route files in `api/` stay thin: they hand the request to the [`App`] the binary built, and
//! everything else is here. Nothing here depends on how routes are bundled.

pub mod app;
pub mod config;
pub mod record;
pub mod respond;
pub mod security;
pub mod source;
pub mod store;
pub mod web;

pub use app::App;
pub use config::Config;
pub use record::RequestRecord;
