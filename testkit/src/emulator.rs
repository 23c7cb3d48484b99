//! The third-party Upstash REST emulator (`@humanwhocodes/upstash-redis-server`, npm) in front
//! of a real Redis: a second implementation of the REST API, so that the app is not only
//! checked against our own reading of it. Its gaps, seen against it: one token, no bearer check
//! on `/pipeline`, HTTP 500 (not 400) for command errors. Good for compatibility, not for
//! faults ([`crate::fake_upstash`] does those).

use crate::{free_port, missing, redis::Redis, wait_for_port, workspace_root};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const TOKEN: &str = "emulator-token";

pub struct Emulator {
    child: Child,
    pub url: String,
    token: String,
}

impl Emulator {
    /// Starts it in front of `redis` and waits until it listens.
    pub fn start(redis: &Redis) -> Emulator {
        Self::start_with_token(redis, TOKEN)
    }

    /// [`Emulator::start`], taking `token` (for reads and writes alike).
    pub fn start_with_token(redis: &Redis, token: &str) -> Emulator {
        let server = Self::server();
        if !server.is_file() {
            missing("the Upstash emulator is not installed (npm ci in tests/js)");
        }
        let port = free_port();
        let child = Command::new("node")
            .arg(server)
            .env("URS_TOKEN", token)
            .env("PORT", port.to_string())
            .env("REDIS_URL", redis.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| missing(format_args!("node could not start the emulator ({e})")));
        let emulator = Emulator {
            child,
            url: format!("http://127.0.0.1:{port}"),
            token: token.into(),
        };
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "the emulator did not start listening within 20 s"
        );
        emulator
    }

    /// The environment that points the app at this emulator (one token for reads and writes).
    pub fn env(&self) -> [(&'static str, &str); 3] {
        [
            ("KV_REST_API_URL", &self.url),
            ("KV_REST_API_TOKEN", &self.token),
            ("KV_REST_API_READ_ONLY_TOKEN", &self.token),
        ]
    }

    fn server() -> PathBuf {
        workspace_root()
            .join("tests/js/node_modules/@humanwhocodes/upstash-redis-server/dist/server.js")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
