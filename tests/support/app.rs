//! The real `main` binary, started on a free port with a clean environment.

use super::free_port;
use super::vercel_ipc::{Context, Ipc};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Variables that could point a test at real storage; never inherited.
const SCRUBBED: &[&str] = &[
    "KV_REST_API_URL",
    "KV_REST_API_TOKEN",
    "KV_REST_API_READ_ONLY_TOKEN",
    "UPSTASH_REDIS_REST_URL",
    "UPSTASH_REDIS_REST_TOKEN",
    "WAIT_UNTIL_STORE",
    "VERCEL",
    "VERCEL_DEV",
    "VERCEL_IPC_PATH",
];

pub struct App {
    child: Child,
    pub port: u16,
    pub base: String,
    pub http: reqwest::Client,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    _workdir: TempDir,
}

impl App {
    /// Starts `main` with `env`, in an empty working directory (so no `.env.local` is read),
    /// and waits for `Dev server listening`: the local mode (`cargo run`, `vercel dev`).
    pub async fn start(env: &[(&str, &str)]) -> App {
        let port = free_port();
        let app = Self::spawn(env, port, TempDir::new("app"));
        let listening = format!("Dev server listening: {port}");
        app.wait_for_stdout(|line| line == listening, Duration::from_secs(10))
            .await;
        app
    }

    /// Starts `main` in production mode, as Vercel runs it: with `VERCEL_IPC_PATH` naming a
    /// socket this test listens on. Waits for `server-started` and sends requests to the
    /// `httpPort` it names.
    pub async fn start_in_production(env: &[(&str, &str)]) -> (App, Ipc) {
        let workdir = TempDir::new("app");
        let ipc = Ipc::listen(&workdir.0);
        let path = ipc.path.to_string_lossy().into_owned();
        let mut env = env.to_vec();
        env.push(("VERCEL_IPC_PATH", &path));
        let mut app = Self::spawn(&env, free_port(), workdir);
        app.port = ipc.server_started(Duration::from_secs(10)).await;
        app.base = format!("http://127.0.0.1:{}", app.port);
        (app, ipc)
    }

    fn spawn(env: &[(&str, &str)], port: u16, workdir: TempDir) -> App {
        let mut command = Command::new(env!("CARGO_BIN_EXE_main"));
        for name in SCRUBBED {
            command.env_remove(name);
        }
        command
            .envs(env.iter().copied())
            .env("VERCEL_DEV_PORT", port.to_string())
            .current_dir(&workdir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start target/debug/main");
        let stdout = collect(child.stdout.take().expect("piped stdout"));
        let stderr = collect(child.stderr.take().expect("piped stderr"));
        App {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            http: test_client(),
            stdout,
            stderr,
            _workdir: workdir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request to the app")
    }

    /// Fires `/api/wait-until` and returns the id it answered with.
    pub async fn fire(&self) -> String {
        self.fire_with(&[]).await
    }

    pub async fn fire_with(&self, headers: &[(&str, &str)]) -> String {
        let response = self.fire_for_response(headers).await;
        assert_eq!(response.status(), 200);
        let body = json(response).await;
        body["id"].as_str().expect("receipt id").to_string()
    }

    /// Fires `/api/wait-until` as Vercel forwards a request: with `context`'s internal ids.
    pub async fn fire_as(&self, context: &Context, headers: &[(&str, &str)]) -> String {
        let ids = context.headers();
        let mut sent: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sent.extend_from_slice(headers);
        self.fire_with(&sent).await
    }

    /// Fires `/api/wait-until` with `headers` and returns the whole response.
    pub async fn fire_for_response(&self, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(self.url("/api/wait-until"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("fire")
    }

    /// `/api/recent` as JSON, with its status.
    pub async fn recent(&self) -> (u16, serde_json::Value) {
        let response = self.get("/api/recent").await;
        let status = response.status().as_u16();
        (status, json(response).await)
    }

    pub async fn recent_ids(&self) -> Vec<String> {
        let (status, body) = self.recent().await;
        assert_eq!(status, 200, "{body}");
        body["requests"]
            .as_array()
            .expect("requests array")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_string())
            .collect()
    }

    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// The JSON failure lines printed so far.
    pub fn failure_lines(&self) -> Vec<serde_json::Value> {
        failure_lines(&self.stderr())
    }

    /// The records of every failure line printed so far, in order.
    pub fn failed_records(&self) -> Vec<serde_json::Value> {
        records_of(&self.failure_lines())
    }

    pub async fn wait_for_stdout(&self, matches: impl Fn(&str) -> bool, within: Duration) {
        wait_for_line(&self.stdout, &matches, within, "stdout").await;
    }

    pub async fn wait_for_failure_lines(
        &self,
        count: usize,
        within: Duration,
    ) -> Vec<serde_json::Value> {
        super::eventually(within, "failure lines", || {
            let n = self.failure_lines().len();
            async move { n >= count }
        })
        .await;
        self.failure_lines()
    }

    /// SIGTERM, then the exit status once the process has drained and exited.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running child");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("exit within 30 s of SIGTERM")
            .expect("wait for exit")
    }
}

/// The failure lines among `lines`, parsed.
pub fn failure_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|value| value["event"] == "wait_until.write_failed")
        .collect()
}

/// The records the failure lines hold, in order, each checked against its line's `count`.
pub fn records_of(lines: &[serde_json::Value]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .flat_map(|line| {
            let records = line["records"]
                .as_array()
                .expect("records in a failure line");
            assert_eq!(line["count"], records.len(), "{line}");
            records.clone()
        })
        .collect()
}

/// The tests' own HTTP client. reqwest is built without a crypto provider (Cargo.toml), and
/// panics when none is installed, so install ring first, as the app does.
pub fn test_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A response body as JSON (reqwest is built without its `json` feature).
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let bytes = response.bytes().await.expect("response body");
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&bytes)))
}

async fn wait_for_line(
    lines: &Arc<Mutex<Vec<String>>>,
    matches: &dyn Fn(&str) -> bool,
    within: Duration,
    stream: &str,
) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if lines.lock().unwrap().iter().any(|line| matches(line)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected line not seen on {stream}; got: {:#?}",
            lines.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "wait-until-{label}-{}-{}",
            std::process::id(),
            super::free_port()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
