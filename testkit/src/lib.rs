//! The test kit: what the integration tests (and the benchmarks) start and talk to.
//!
//! - [`app`]: the real `main` binary, locally or in production mode, with its output captured.
//! - [`redis`]: a real `redis-server` of our own; [`emulator`]: the npm Upstash emulator in
//!   front of it; [`fake_upstash`]: our Upstash TEST DOUBLE in front of it, for the faults and
//!   delays the real parts cannot produce.
//! - [`raw_http`]: requests as bytes over TCP, for what an HTTP client would refuse or fix.
//! - [`vercel_ipc`]: Vercel's side of the runtime's production protocol.
//! - [`lines`]: the app's success and failure lines, read back.
//!
//! Every tool is required: a missing one panics naming `cargo xtask provision`, never a skip.
//!
//! The std half (processes, raw HTTP, Vercel's IPC side) builds without the default `tokio`
//! feature, for synchronous tools that must not build tokio and reqwest a second time.

#[cfg(feature = "tokio")]
pub mod app;
pub mod emulator;
#[cfg(feature = "tokio")]
pub mod fake_upstash;
pub mod lines;
pub mod raw_http;
pub mod redis;
#[cfg(feature = "tokio")]
mod resp;
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

/// Polls `check` every 20 ms until it holds; panics naming `what` after `within`.
#[cfg(feature = "tokio")]
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
