//! The app in this process: built from a [`Config`] as the binary builds it, and handed each
//! request by the same route logic, for the tests of answers, headers and start-up lines where no
//! process boundary is on trial. Each test builds its own, so none waits for a process to start.
//!
//! What it does not show: the lines the writer logs (they go to this process' own stdout and
//! stderr), routing by `#[bundled_api]` and raw HTTP. Tests of those start the binary.

use http::{HeaderMap, Method, Request};
use http_body_util::BodyExt;
use serde_json::Value;
use vercel_runtime::{AppState, LogContext, ResponseBody};
use wait_until::config::{Config, EnvFile};

pub struct App {
    pub app: wait_until::App,
}

/// What the app answered.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

impl App {
    /// Configured by `env` (standing for the environment), with no `.env.local`.
    pub fn new(env: &[(&str, &str)]) -> Self {
        Self::with_env_local(env, None)
    }

    /// Configured by `env` and, when given, `env_local` as the text of `.env.local`, read from a
    /// file as the binary reads it.
    pub fn with_env_local(env: &[(&str, &str)], env_local: Option<&str>) -> Self {
        let workdir = testkit::TempDir::new("in-process");
        let path = workdir.path().join(".env.local");
        if let Some(text) = env_local {
            std::fs::write(&path, text).expect("cannot write .env.local");
        }
        Self::with_file(env, EnvFile::read(&path))
    }

    /// Configured by `env` and what `.env.local` gave.
    pub fn with_file(env: &[(&str, &str)], file: EnvFile) -> Self {
        let lookup = |name: &str| {
            let found = env.iter().rev().find(|(key, _)| *key == name);
            found.map(|(_, value)| value.to_string())
        };
        Self {
            app: wait_until::App::new(Config::from_sources(&lookup, &file)),
        }
    }

    /// The start-up lines, as the binary prints them.
    pub fn printed(&self) -> &[String] {
        self.app.startup_lines()
    }

    #[track_caller]
    pub fn assert_printed(&self, prefix: &str) {
        let printed = self.printed();
        assert!(
            printed.iter().any(|line| line.starts_with(prefix)),
            "no start-up line starts with {prefix:?}: {printed:?}"
        );
    }

    /// `method path` with `headers`, answered as the binary's routes answer it.
    pub async fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("a method"))
            .uri(format!("http://localhost{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(()).expect("a request");
        let state = AppState::new(LogContext::new(None, None, None));
        let response = match request.uri().path() {
            "/api/wait-until" => self.app.wait_until(&request, &state).await,
            "/api/recent" => self.app.recent(&request).await,
            "/api/source" => self.app.source(&request),
            _ => wait_until::web::unrouted(&request),
        };
        let (parts, body): (_, ResponseBody) = response.into_parts();
        let body = body.collect().await.expect("the body").to_bytes().to_vec();
        Answer {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[]).await
    }

    /// Fires `/api/wait-until` with `headers`; asserts a `200` and returns the receipt's id.
    pub async fn fire_with(&self, headers: &[(&str, &str)]) -> String {
        let answer = self.request("GET", "/api/wait-until", headers).await;
        let receipt = answer.json();
        assert_eq!(answer.status, 200, "{receipt}");
        receipt["id"].as_str().expect("an id").to_string()
    }

    pub async fn fire(&self) -> String {
        self.fire_with(&[]).await
    }

    /// `/api/recent`: its status and body.
    pub async fn recent(&self) -> (u16, Value) {
        let answer = self.get("/api/recent").await;
        (answer.status, answer.json())
    }

    /// The ids `/api/recent` lists, newest first; asserts a `200`.
    pub async fn recent_ids(&self) -> Vec<String> {
        let (status, body) = self.recent().await;
        assert_eq!(status, 200, "{body}");
        let requests = body["requests"].as_array().expect("requests array");
        requests
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect()
    }
}
