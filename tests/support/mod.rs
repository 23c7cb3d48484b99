//! What the integration tests share: the real `main` binary, a real `redis-server`, the
//! third-party Upstash emulator, and a fault-injecting Upstash endpoint of our own.
//!
//! Every tool is required: a missing one fails the test with what to run, never a skip.

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub mod app;
pub mod emulator;
pub mod fake_upstash;
pub mod raw_http;
pub mod redis;
pub mod resp;
pub mod vercel_ipc;

use std::net::TcpListener;

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// The workspace root.
pub fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Polls `check` every 20 ms until it holds or `within` passes.
pub async fn eventually<F, Fut>(within: std::time::Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
