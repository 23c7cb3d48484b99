//! The app as a value: the store behind its after-response writer, the source links and the
//! start-up lines, built from one [`Config`], and what each route does with them.
//!
//! A Vercel Function instance serves many requests, so the binary builds one `App` per instance
//! (per cold start) and its route files hand it each request; tests build their own. Nothing
//! here reaches for a process-wide value.

use crate::config::Config;
use crate::record::RequestRecord;
use crate::respond::{self, Receipt, RecentPage};
use crate::source::SourceLinks;
use crate::store::Store;
use crate::store::upstash::REQUEST_TIMEOUT;
use crate::write_mode::WriteMode;
use after_response::{AfterResponse, Retry};
use http::Request;
use http::{Method, StatusCode};
use std::time::Duration;
use vercel_runtime::{AppState, Response, ResponseBody};

/// The `event` of the app's failure lines, which `replay` looks for: the same as before the
/// writer was a crate, so lines logged then are still replayed.
pub const WRITE_FAILED: &str = "wait_until.write_failed";

pub struct App {
    writer: AfterResponse<Store>,
    source: SourceLinks,
    startup: Vec<String>,
}

impl App {
    pub fn new(config: Config) -> Self {
        let (source, source_note) = SourceLinks::from_config(&config);
        let mut startup = vec![format!("storage: {} ({})", config.store.kind(), config.why)];
        if let Store::Unconfigured(message) = &config.store {
            startup.push(format!("storage problem: {message}"));
        }
        let notes = config.notes.iter().chain(&source_note);
        startup.extend(notes.map(|note| format!("note: {note}")));
        Self {
            writer: writer(config.store, config.success_lines),
            source,
            startup,
        }
    }

    /// The start-up lines: which store is in use and why, and any configuration notes.
    pub fn startup_lines(&self) -> &[String] {
        &self.startup
    }

    /// Writes records after the response (or awaited), batched, bounded and retried.
    pub fn writer(&self) -> &AfterResponse<Store> {
        &self.writer
    }

    pub fn store(&self) -> &Store {
        self.writer.sink()
    }

    /// `/api/wait-until` (any method): answers at once and stores the record after the
    /// response; with `?await=1`, stores it first and answers after, for comparison.
    pub async fn wait_until<B>(
        &self,
        req: &Request<B>,
        state: &AppState,
    ) -> Response<ResponseBody> {
        let mode = match WriteMode::from_query(req.uri().query()) {
            Ok(mode) => mode,
            Err(refusal) => return respond::error(StatusCode::BAD_REQUEST, refusal),
        };
        let storage = self.store().kind();
        let record = RequestRecord::of_request(req);
        match mode {
            WriteMode::AfterResponse => {
                let receipt = Receipt::after_response(&record, storage);
                self.writer.submit(req, state, record);
                respond::json(StatusCode::OK, &receipt)
            }
            WriteMode::Awaited => {
                let id = record.id.clone();
                match self.writer.submit_awaited(req, state, record).await {
                    Ok(stored) => {
                        respond::json(StatusCode::OK, &Receipt::stored(id, storage, &stored))
                    }
                    Err(failure) => respond::write_failed(&failure, &id),
                }
            }
        }
    }

    /// `/api/recent` (GET, HEAD): the ten newest records, newest first, read with the read-only
    /// token.
    pub async fn recent<B>(&self, req: &Request<B>) -> Response<ResponseBody> {
        if let Some(refusal) = respond::allow_only(req, &[Method::GET, Method::HEAD]) {
            return refusal;
        }
        let store = self.store();
        match store.recent().await {
            Ok(recent) => respond::json(StatusCode::OK, &RecentPage::new(recent, store.kind())),
            Err(error) => respond::store_error(&error),
        }
    }

    /// `/api/source` (GET, HEAD): where the page links for the source and the deploy steps.
    pub fn source<B>(&self, req: &Request<B>) -> Response<ResponseBody> {
        respond::allow_only(req, &[Method::GET, Method::HEAD])
            .unwrap_or_else(|| respond::json(StatusCode::OK, &self.source))
    }
}

/// The app's writer settings: the crate's, with the app's failure event, and each attempt cut
/// a second after the client's own timeout, which ends a slow call first, in its own words
/// ("storage timed out"): the crate's cut is only the backstop.
pub fn writer_config(success_lines: bool) -> after_response::Config {
    let retry = Retry {
        attempt_timeout: REQUEST_TIMEOUT + Duration::from_secs(1),
        ..Retry::default()
    };
    after_response::Config {
        success_lines,
        event: WRITE_FAILED,
        retry,
        ..Default::default()
    }
}

/// The app's writer on `store`.
pub fn writer(store: Store, success_lines: bool) -> AfterResponse<Store> {
    // Only zero bounds are refused, and the app's have none (every test builds one).
    AfterResponse::with_config(store, writer_config(success_lines)).expect("the app's bounds")
}
