//! The real app binary, started on a free port with a clean environment, in the two ways it
//! runs: local mode (`cargo run`, `vercel dev`) and production mode (as Vercel runs it, over the
//! runtime's IPC socket). Its output is captured line by line, so that tests read what a user
//! would read in the logs.

use crate::fake_upstash::Hold;
use crate::lines;
use crate::raw_http::{self, Answer};
use crate::vercel_ipc::{Context, Ipc};
use crate::{TempDir, free_port, within};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// Variables that could point a test at real storage or another mode; never inherited.
pub const SCRUBBED: &[&str] = &[
    "KV_REST_API_URL",
    "KV_REST_API_TOKEN",
    "KV_REST_API_READ_ONLY_TOKEN",
    "UPSTASH_REDIS_REST_URL",
    "UPSTASH_REDIS_REST_TOKEN",
    "WAIT_UNTIL_STORE",
    "WAIT_UNTIL_KEY",
    "WAIT_UNTIL_SUCCESS_LINES",
    "WAIT_UNTIL_SOURCE_URL",
    "VERCEL_GIT_PROVIDER",
    "VERCEL_GIT_REPO_OWNER",
    "VERCEL_GIT_REPO_SLUG",
    "VERCEL_GIT_COMMIT_SHA",
    "VERCEL",
    "VERCEL_DEV",
    "VERCEL_IPC_PATH",
];

/// How long a raw request may wait for its answer.
const RAW_ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// How long a request through the test client may wait for its answer (the head; the body is
/// bounded by the client's own timeout, [`ANSWER_WITHIN`] too). The app answers at once or
/// within its 3 s storage timeout; a loaded machine gets the rest.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// One line stream of the app: the lines so far, and the task reading them.
struct Output {
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

pub struct App {
    child: Child,
    pub port: u16,
    pub base: String,
    pub http: reqwest::Client,
    stdout: Output,
    stderr: Output,
    _workdir: TempDir,
}

impl App {
    /// Starts `binary` with `env`, in an empty working directory (so no `.env.local` is read),
    /// and waits for `Dev server listening`: the local mode.
    pub async fn start(binary: impl AsRef<Path>, env: &[(&str, &str)]) -> App {
        Self::start_with_env_local(binary, env, None).await
    }

    /// [`App::start`], with `env_local` (if any) written to `.env.local` in its working
    /// directory first, as `vercel env pull .env.local` would.
    pub async fn start_with_env_local(
        binary: impl AsRef<Path>,
        env: &[(&str, &str)],
        env_local: Option<&str>,
    ) -> App {
        Self::start_in(binary, env, |workdir, _| {
            if let Some(contents) = env_local {
                std::fs::write(workdir.join(".env.local"), contents)
                    .expect("cannot write .env.local");
            }
        })
        .await
    }

    /// [`App::start`], after `prepare` has set up its (empty) working directory and may have
    /// added to its command (e.g. a variable that is not Unicode).
    pub async fn start_in(
        binary: impl AsRef<Path>,
        env: &[(&str, &str)],
        prepare: impl FnOnce(&Path, &mut Command),
    ) -> App {
        let port = free_port();
        let workdir = TempDir::new("app");
        let mut command = command(binary.as_ref(), &workdir);
        command.envs(env.iter().copied());
        prepare(workdir.path(), &mut command);
        let app = Self::spawn(command, port, workdir);
        let listening = format!("Dev server listening: {port}");
        app.wait_for_stdout(|line| line == listening, Duration::from_secs(10))
            .await;
        app
    }

    /// Starts `binary` in production mode, as Vercel runs it: with `VERCEL_IPC_PATH` naming a
    /// socket this side listens on. Waits for `server-started` and sends requests to the
    /// `httpPort` it names.
    pub async fn start_in_production(binary: impl AsRef<Path>, env: &[(&str, &str)]) -> (App, Ipc) {
        let workdir = TempDir::new("app");
        let ipc = Ipc::listen(workdir.path());
        let mut command = command(binary.as_ref(), &workdir);
        command
            .envs(env.iter().copied())
            .env("VERCEL_IPC_PATH", &ipc.path);
        let mut app = Self::spawn(command, free_port(), workdir);
        app.port = ipc.server_started(Duration::from_secs(10)).await;
        app.base = format!("http://127.0.0.1:{}", app.port);
        (app, ipc)
    }

    /// `port` is the one given in `VERCEL_DEV_PORT`; production mode reports the one it bound.
    fn spawn(mut command: Command, port: u16, workdir: TempDir) -> App {
        command.env("VERCEL_DEV_PORT", port.to_string());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.as_std().get_program()));
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
        self.request("GET", path).await
    }

    /// `method path` with no body.
    pub async fn request(&self, method: &str, path: &str) -> reqwest::Response {
        let parsed: reqwest::Method = method.parse().expect("an HTTP method");
        let send = self.http.request(parsed, self.url(path)).send();
        within(
            ANSWER_WITHIN,
            format!("the app's answer to {method} {path}"),
            send,
        )
        .await
        .expect("request to the app")
    }

    /// Sends exactly `request` over a connection of its own (see [`raw_http::send`]), off the
    /// runtime's threads; `Err` for anything that is not a clean HTTP answer within 10 s.
    pub async fn send_raw(&self, request: impl Into<Vec<u8>>) -> Result<Answer, String> {
        let (port, request) = (self.port, request.into());
        tokio::task::spawn_blocking(move || raw_http::send(port, &request, RAW_ANSWER_WITHIN))
            .await
            .expect("the raw request did not panic")
    }

    /// Fires `/api/wait-until` and returns the id it answered with.
    pub async fn fire(&self) -> String {
        self.fire_with(&[]).await
    }

    /// Fires `/api/wait-until` with `headers`; asserts a `200` and returns the receipt's id.
    pub async fn fire_with(&self, headers: &[(&str, &str)]) -> String {
        receipt_id(self.fire_for_response(headers).await).await
    }

    /// Fires `/api/wait-until` as Vercel forwards a request: with `context`'s internal ids.
    pub async fn fire_as(&self, context: &Context, headers: &[(&str, &str)]) -> String {
        receipt_id(self.get_as(context, "/api/wait-until", headers).await).await
    }

    /// `GET path` as Vercel forwards a request: with `context`'s internal ids, then `headers`.
    pub async fn get_as(
        &self,
        context: &Context,
        path: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let ids = context.headers();
        let mut sent: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
        sent.extend_from_slice(headers);
        self.get_with(path, &sent).await
    }

    /// Fires `/api/wait-until` with `headers` and returns the whole response.
    pub async fn fire_for_response(&self, headers: &[(&str, &str)]) -> reqwest::Response {
        self.get_with("/api/wait-until", headers).await
    }

    /// `GET path` with `headers`.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        within(
            ANSWER_WITHIN,
            format!("the app's answer to GET {path}"),
            request.send(),
        )
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// `/api/recent` as JSON, with its status.
    pub async fn recent(&self) -> (u16, serde_json::Value) {
        let response = self.get("/api/recent").await;
        let status = response.status().as_u16();
        (status, json(response).await)
    }

    /// The ids `/api/recent` lists, newest first; asserts a `200`.
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
        self.stdout.lines.lock().unwrap().clone()
    }

    /// Panics, showing stdout, unless one of its lines starts with `prefix` (the start-up
    /// lines say which store is in use and why).
    #[track_caller]
    pub fn assert_printed(&self, prefix: &str) {
        let stdout = self.stdout();
        assert!(
            stdout.iter().any(|line| line.starts_with(prefix)),
            "no stdout line starts with {prefix:?}: {stdout:?}"
        );
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lines.lock().unwrap().clone()
    }

    /// The ids of the success lines printed so far, in order.
    pub fn stored_ids(&self) -> Vec<String> {
        let stdout = self.stdout();
        stdout
            .iter()
            .filter_map(|line| lines::stored_id(line))
            .map(str::to_string)
            .collect()
    }

    /// The failure lines printed so far, parsed.
    pub fn failure_lines(&self) -> Vec<serde_json::Value> {
        lines::failure_lines(&self.stderr())
    }

    /// The records of every failure line printed so far, in order.
    pub fn failed_records(&self) -> Vec<serde_json::Value> {
        lines::records_of(&self.failure_lines())
    }

    /// Waits for a line on stdout that `matches`; panics with what came instead.
    pub async fn wait_for_stdout(&self, matches: impl Fn(&str) -> bool, within: Duration) {
        let lines = &self.stdout.lines;
        let deadline = tokio::time::Instant::now() + within;
        while !lines.lock().unwrap().iter().any(|line| matches(line)) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected line not seen on stdout within {within:?}; got: {:#?}",
                lines.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until `count` failure lines were printed, and returns them all.
    pub async fn wait_for_failure_lines(
        &self,
        count: usize,
        within: Duration,
    ) -> Vec<serde_json::Value> {
        crate::eventually(within, "failure lines", || {
            let n = self.failure_lines().len();
            async move { n >= count }
        })
        .await;
        self.failure_lines()
    }

    /// Sends SIGTERM: the runtime drains its `wait_until` work, then exits.
    pub fn sigterm(&self) {
        let pid = self.child.id().expect("the app is still running");
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(sent.success(), "kill -TERM {pid}");
    }

    /// The exit status, once the process has exited and all its output is read.
    pub async fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let exited = async {
            let status = self.child.wait().await.expect("wait for exit");
            for output in [&mut self.stdout, &mut self.stderr] {
                if let Some(reader) = output.reader.take() {
                    reader.await.expect("the output reader did not panic");
                }
            }
            status
        };
        tokio::time::timeout(within, exited)
            .await
            .unwrap_or_else(|_| panic!("no exit within {within:?}"))
    }

    /// The exit status if the process exits within `within`; `None` if it is still running
    /// then. For a test that checks it does not exit while work is pending.
    pub async fn exited_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let child = &mut self.child;
        crate::poll_for(within, || {
            let exited = child.try_wait().expect("the state of the app's process");
            async move { exited }
        })
        .await
    }

    /// SIGTERM while storage holds the app's writes (`held`): the process must still be running
    /// 300 ms later, since it drains before it exits; `meanwhile` checks whatever else must not
    /// have happened yet. Then storage is released, and the exit status awaited.
    pub async fn sigterm_while_held(&mut self, held: Hold, meanwhile: impl FnOnce()) -> ExitStatus {
        self.sigterm();
        assert_eq!(
            self.exited_within(Duration::from_millis(300)).await,
            None,
            "exited while its writes were held"
        );
        meanwhile();
        held.release();
        self.wait_exit(Duration::from_secs(30)).await
    }

    /// SIGTERM, then the exit status once the process has drained and exited.
    pub async fn terminate(&mut self) -> ExitStatus {
        self.sigterm();
        self.wait_exit(Duration::from_secs(30)).await
    }
}

/// The app's command: no inherited storage settings, its own working directory, output piped.
fn command(binary: &Path, workdir: &TempDir) -> Command {
    let binary = PathBuf::from(binary);
    assert!(binary.is_file(), "no app binary at {binary:?}");
    let mut command = Command::new(binary);
    for name in SCRUBBED {
        command.env_remove(name);
    }
    command
        .current_dir(workdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A client for the app. reqwest is built without a crypto provider (as in the app), and panics
/// when none is installed, so ring is installed first, as the app does. No request, body
/// included, takes longer than [`ANSWER_WITHIN`].
pub fn test_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(ANSWER_WITHIN)
        .build()
        .expect("the test client")
}

/// A response body as JSON (reqwest is built without its `json` feature).
/// Asserts that `response` is a `200` and returns the id of the receipt it carries.
async fn receipt_id(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let body = json(response).await;
    body["id"].as_str().expect("receipt id").to_string()
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let bytes = response.bytes().await.expect("response body");
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&bytes)))
}

fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Output {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let reader = tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    Output {
        lines,
        reader: Some(reader),
    }
}
