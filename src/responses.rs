//! The JSON bodies of the two routes.

use crate::record::RequestRecord;
use crate::store::Recent;
use serde::Serialize;

/// What `/api/wait-until` answers before its background work has run.
#[derive(Debug, Serialize)]
pub struct Receipt {
    pub recorded: bool,
    pub id: String,
    pub storage: &'static str,
    pub message: &'static str,
}

impl Receipt {
    pub fn new(record: &RequestRecord, storage: &'static str) -> Self {
        Self {
            recorded: true,
            id: record.id.clone(),
            storage,
            message: "Responded at once; the record is written after this response is sent.",
        }
    }
}

/// What `/api/recent` answers.
#[derive(Debug, Serialize)]
pub struct RecentPage {
    pub requests: Vec<RequestRecord>,
    pub storage: &'static str,
    /// Stored entries that were not valid records and were left out.
    pub skipped: usize,
}

impl RecentPage {
    pub fn new(recent: Recent, storage: &'static str) -> Self {
        Self {
            requests: recent.records,
            storage,
            skipped: recent.skipped,
        }
    }
}
