//! The domain of the wait-until API: the record, its storage, configuration and HTTP helpers.
//!
//! Route files in `api/` stay thin: they read the request, call into this crate, and shape the
//! response with [`respond`]. Nothing here depends on how routes are bundled.

pub mod app;
pub mod record;
pub mod respond;
pub mod security;
pub mod settings;
pub mod source;
pub mod store;
pub mod web;
pub mod write_mode;

pub use app::App;
pub use record::RequestRecord;
