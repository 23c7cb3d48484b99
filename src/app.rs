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
            // Only zero bounds are refused, and the app's have none (every test builds one).
            writer: AfterResponse::with_config(config.store, writer_config(config.success_lines))
                .expect("the app's bounds"),
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
        let awaited = match awaited(req.uri().query()) {
            Ok(awaited) => awaited,
            Err(refusal) => return respond::error(StatusCode::BAD_REQUEST, refusal),
        };
        let storage = self.store().kind();
        let record = RequestRecord::of_request(req);
        let id = record.id.clone();
        if !awaited {
            self.writer.submit(req, state, record);
            return respond::json(StatusCode::OK, &Receipt::new(id, storage, None));
        }
        match self.writer.submit_awaited(req, state, record).await {
            Ok(stored) => respond::json(StatusCode::OK, &Receipt::new(id, storage, Some(stored))),
            Err(failure) => respond::write_failed(&failure, &id),
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

/// What a `?await=` the route cannot read gets, as the `400`'s message.
pub const AWAIT_REFUSED: &str =
    "`await` must be given at most once, as 1 (write before answering) or 0";

/// Whether `query` asks for the write before the answer: `await=1` does; `await=0`, or no
/// `await`, writes after the response, inside `wait_until` (the point of this project). Other
/// parameters are ignored, so a cache buster does no harm; any other `await`, or two of them,
/// is refused rather than guessed at.
pub fn awaited(query: Option<&str>) -> Result<bool, &'static str> {
    let mut awaited = None;
    for pair in query.unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let this = match (name, value) {
            ("await", "1") => true,
            ("await", "0") => false,
            ("await", _) => return Err(AWAIT_REFUSED),
            _ => continue,
        };
        if awaited.replace(this).is_some() {
            return Err(AWAIT_REFUSED);
        }
    }
    Ok(awaited.unwrap_or(false))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::from_table;
    use http_body_util::BodyExt;
    use serde_json::Value;
    use vercel_runtime::LogContext;

    /// An app configured by `vars`, standing for the environment.
    fn app(vars: &[(&str, &str)]) -> App {
        App::new(from_table(vars))
    }

    fn get(path: &str) -> Request<()> {
        Request::get(path).body(()).unwrap()
    }

    fn state() -> AppState {
        AppState::new(LogContext::new(None, None, None))
    }

    /// The status and JSON body of `response`.
    async fn answer(response: Response<ResponseBody>) -> (StatusCode, Value) {
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn start_up_names_the_store_its_problem_and_every_note() {
        let memory = app(&[]);
        assert_eq!(
            memory.startup_lines(),
            ["storage: memory (no Upstash settings: records live in this process only)"]
        );
        let lines = app(&[
            ("VERCEL", "1"),
            ("WAIT_UNTIL_SUCCESS_LINES", "loud"),
            ("WAIT_UNTIL_SOURCE_URL", "http://example.com"),
        ])
        .startup_lines()
        .to_vec();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(
            lines[0].starts_with("storage: upstash (running on Vercel"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("storage problem: storage is not configured"),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("note: WAIT_UNTIL_SUCCESS_LINES"),
            "{lines:?}"
        );
        assert!(
            lines[3].starts_with("note: WAIT_UNTIL_SOURCE_URL"),
            "{lines:?}"
        );
    }

    #[tokio::test]
    async fn a_plain_fire_answers_before_its_write_and_an_awaited_one_after_it() {
        let app = app(&[]);
        let (status, plain) = answer(app.wait_until(&get("/api/wait-until"), &state()).await).await;
        assert_eq!(
            (status, &plain["awaited"]),
            (StatusCode::OK, &Value::Bool(false))
        );
        assert!(plain.get("attempts").is_none(), "{plain}");
        let awaited = get("/api/wait-until?await=1");
        let (status, receipt) = answer(app.wait_until(&awaited, &state()).await).await;
        assert_eq!(
            (status, &receipt["awaited"]),
            (StatusCode::OK, &Value::Bool(true))
        );
        assert_eq!(receipt["attempts"], 1);
        assert_eq!(receipt["storage"], "memory");
        // Written before its answer: the very next read lists it.
        let (_, recent) = answer(app.recent(&get("/api/recent")).await).await;
        assert_eq!(recent["requests"][0]["id"], receipt["id"], "{recent}");
        let refused = get("/api/wait-until?await=yes");
        let (status, body) = answer(app.wait_until(&refused, &state()).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some(AWAIT_REFUSED))
        );
    }

    #[tokio::test]
    async fn reads_answer_get_and_head_and_say_what_storage_said() {
        let post = Request::post("/api/recent").body(()).unwrap();
        for app in [app(&[]), app(&[("VERCEL", "1")])] {
            assert_eq!(
                app.recent(&post).await.status(),
                StatusCode::METHOD_NOT_ALLOWED
            );
            assert_eq!(app.source(&post).status(), StatusCode::METHOD_NOT_ALLOWED);
            let (status, _) = answer(app.source(&get("/api/source"))).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, body) = answer(app(&[]).recent(&get("/api/recent")).await).await;
        assert_eq!(
            (status, &body["storage"]),
            (StatusCode::OK, &Value::from("memory"))
        );
        let unconfigured = app(&[("VERCEL", "1")]);
        let (status, body) = answer(unconfigured.recent(&get("/api/recent")).await).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let git = [
            ("VERCEL_GIT_PROVIDER", "github"),
            ("VERCEL_GIT_REPO_OWNER", "acme"),
            ("VERCEL_GIT_REPO_SLUG", "api"),
        ];
        let (_, links) = answer(app(&git).source(&get("/api/source"))).await;
        assert_eq!(links["source"], "https://github.com/acme/api");
    }

    #[test]
    fn the_writer_is_the_crate_s_with_the_app_s_event_and_a_backstop_behind_the_client() {
        for success_lines in [true, false] {
            let config = writer_config(success_lines);
            assert_eq!(config.success_lines, success_lines);
            assert_eq!(config.event, WRITE_FAILED);
            let default = after_response::Config::default();
            assert_eq!(config.max_queued, default.max_queued);
            let retry = config.retry;
            assert_eq!(
                retry.attempt_timeout,
                REQUEST_TIMEOUT + Duration::from_secs(1)
            );
            assert_eq!(retry.max_attempts, default.retry.max_attempts);
            assert_eq!(retry.deadline, default.retry.deadline);
        }
    }

    #[test]
    fn only_await_1_awaits_and_no_await_writes_after_the_response() {
        for (query, expected) in [
            (None, false),
            (Some(""), false),
            (Some("await=0"), false),
            (Some("await=1"), true),
            (Some("t=123&await=1"), true),
            (Some("await=1&&x"), true),
            (Some("awaited=1&AWAIT=1&x=await"), false),
        ] {
            assert_eq!(awaited(query), Ok(expected), "{query:?}");
        }
    }

    #[test]
    fn any_other_await_or_a_second_one_is_refused() {
        for query in [
            "await",
            "await=",
            "await=true",
            "await=2",
            "await=01",
            "await=1 ",
            "await=%31",
            "await=1&await=1",
            "await=0&await=1",
        ] {
            assert_eq!(awaited(Some(query)), Err(AWAIT_REFUSED), "{query}");
        }
    }
}
