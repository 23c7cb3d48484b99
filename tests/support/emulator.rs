//! The third-party Upstash REST emulator (`@humanwhocodes/upstash-redis-server`, npm) in front
//! of a real Redis. Its gaps, seen against it: one token, no bearer check on
//! `/pipeline`, HTTP 500 (not 400) for command errors. Good for compatibility, not for faults.

use super::{free_port, redis::Redis, root};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "emulator-token";

pub struct Emulator {
    child: Child,
    pub url: String,
}

impl Emulator {
    pub fn start(redis: &Redis) -> Emulator {
        let server =
            root().join("tests/js/node_modules/@humanwhocodes/upstash-redis-server/dist/server.js");
        assert!(
            server.is_file(),
            "the Upstash emulator is not installed; run `cargo xtask provision` (npm ci in tests/js)"
        );
        let port = free_port();
        let child = Command::new("node")
            .arg(server)
            .env("URS_TOKEN", TOKEN)
            .env("PORT", port.to_string())
            .env("REDIS_URL", redis.url())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("node could not start the emulator: {e}"));
        let emulator = Emulator {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the emulator did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        emulator
    }

    /// The environment that points the app at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KV_REST_API_URL", self.url.clone()),
            ("KV_REST_API_TOKEN", TOKEN.to_string()),
            ("KV_REST_API_READ_ONLY_TOKEN", TOKEN.to_string()),
        ]
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
