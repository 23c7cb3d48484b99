//! The test kit: what the integration tests (and the benchmarks) start and talk to.
//!
//! - [`app`]: the real `main` binary, locally or in production mode, with its output captured.
//! - [`redis`]: a real `redis-server` of our own; [`emulator`]: the npm Upstash emulator in
//!   front of it; [`fake_upstash`]: our Upstash TEST DOUBLE in front of it, for the faults and
//!   delays the real parts cannot produce; [`fault_proxy`]: a forwarding TEST DOUBLE in front
//!   of any of them (the emulator, mainly) that loses the answers of calls the upstream applied.
//! - [`raw_http`]: requests as bytes over TCP, for what an HTTP client would refuse or fix.
//! - [`vercel_ipc`]: Vercel's side of the runtime's production protocol.
//! - [`lines`]: the app's success and failure lines, read back.
//! - [`consumer`]: the example project that uses `bundled_api` as an outside project would,
//!   built with its own manifest and lock.
//!
//! Every tool is required: a missing one panics naming `cargo xtask provision`, never a skip.
//!
//! The std half (processes, raw HTTP, Vercel's IPC side) builds without the default `tokio`
//! feature, for synchronous tools that must not build tokio and reqwest a second time.

#[cfg(feature = "tokio")]
pub mod app;
pub mod consumer;
pub mod emulator;
#[cfg(feature = "tokio")]
pub mod fake_upstash;
#[cfg(feature = "tokio")]
pub mod fault_proxy;
pub mod lines;
pub mod raw_http;
pub mod redis;
#[cfg(feature = "tokio")]
mod resp;
#[cfg(feature = "tokio")]
mod serve;
pub mod vercel_ipc;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How a missing tool is reported: loudly, with the command that installs it.
pub(crate) fn missing(what: impl std::fmt::Display) -> ! {
    panic!("{what}; run `cargo xtask provision` to install it")
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// The workspace root (this crate's parent folder), where `tests/js` lives.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit/ sits in the workspace")
        .to_path_buf()
}

/// The workspace as `cargo metadata --no-deps` describes it (its packages, its target
/// directory). Asked once per process.
pub fn metadata() -> Result<&'static serde_json::Value, String> {
    static METADATA: std::sync::OnceLock<Result<serde_json::Value, String>> =
        std::sync::OnceLock::new();
    METADATA
        .get_or_init(|| {
            let output = cargo()
                .args(["metadata", "--format-version", "1", "--no-deps"])
                .current_dir(workspace_root())
                .output()
                .map_err(|e| format!("cannot run `cargo metadata`: {e}"))?;
            if !output.status.success() {
                return Err(format!(
                    "`cargo metadata` failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            serde_json::from_slice(&output.stdout)
                .map_err(|e| format!("`cargo metadata` printed no JSON: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Cargo's target directory, as `cargo metadata` reports it: `CARGO_TARGET_DIR`, a
/// `build.target-dir` setting, or `<root>/target`. Everything built or written by a check goes
/// under it, never under a hard-coded `target/`.
pub fn target_dir() -> Result<PathBuf, String> {
    metadata()?["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "`cargo metadata` names no target_directory".to_string())
}

/// A `cargo` command: the Cargo that runs us (`CARGO`, set by `cargo run` and `cargo test`),
/// so a nested build uses the same toolchain; `cargo` from the `PATH` otherwise.
pub fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Waits until something accepts TCP connections on `port`; `false` after `within`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The deadline of one integration test's body (see [`within`], which names what the test
/// waits for): a test that takes seconds on a loaded two-core machine, beside the rest of the
/// suite, and far below "forever", so that a hang fails by name.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

/// [`TEST_LIMIT`] for the tests that send thousands of requests.
pub const HEAVY_TEST_LIMIT: Duration = Duration::from_secs(180);

/// Runs `work` to its end and hands back its output; panics with `"{what}: not done within
/// {limit:?}"` once `limit` has passed. Every async test runs its body under one, so that a bug
/// that hangs fails the test by name instead of hanging the suite; the bounded waits inside
/// (`eventually`, `App::wait_for_failure_lines`, …) name the step.
///
/// It can only fire while `work` yields: a synchronous call that blocks the test's thread holds
/// it off until it returns (the kit's blocking calls are bounded on their own).
#[cfg(feature = "tokio")]
pub async fn within<T>(
    limit: Duration,
    what: impl std::fmt::Display,
    work: impl std::future::Future<Output = T>,
) -> T {
    match tokio::time::timeout(limit, work).await {
        Ok(output) => output,
        Err(_) => panic!("{what}: not done within {limit:?}"),
    }
}

/// Polls `check` every 20 ms until it finds something, and hands that back; `None` once
/// `within` has passed, for a caller that says what was missing.
#[cfg(feature = "tokio")]
pub async fn poll_for<T, F, Fut>(within: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` every 20 ms until it holds; panics naming `what` after `within`.
#[cfg(feature = "tokio")]
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let held = poll_for(within, || {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await;
    assert!(
        held.is_some(),
        "timed out after {within:?} waiting for {what}"
    );
}

/// A directory of its own, removed on drop: the app's working directory (so that no
/// `.env.local` is read) and the home of the IPC socket.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "wait-until-{label}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(all(test, feature = "tokio"))]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(work: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
            .block_on(work)
    }

    #[test]
    #[should_panic(expected = "the answer that never comes: not done within 50ms")]
    fn within_fails_naming_what_it_waited_for_once_the_limit_passes() {
        block_on(within(
            Duration::from_millis(50),
            "the answer that never comes",
            std::future::pending::<()>(),
        ));
    }

    #[test]
    fn within_hands_back_what_was_done_in_time() {
        let work = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            42
        };
        assert_eq!(block_on(within(Duration::from_secs(10), "42", work)), 42);
    }

    #[test]
    fn poll_for_hands_back_the_first_find_or_nothing_after_the_limit() {
        let mut calls = 0;
        let found = block_on(poll_for(Duration::from_secs(10), || {
            calls += 1;
            let now = calls;
            async move { (now == 3).then_some(now) }
        }));
        assert_eq!(found, Some(3));
        let never = block_on(poll_for(Duration::from_millis(50), || async { None::<()> }));
        assert_eq!(never, None);
    }

    #[test]
    #[should_panic(expected = "timed out after 50ms waiting for a thing that never holds")]
    fn eventually_fails_naming_what_never_held() {
        block_on(eventually(
            Duration::from_millis(50),
            "a thing that never holds",
            || async { false },
        ));
    }
}
