//! Storage for the benchmarks: a real redis-server behind the npm Upstash emulator, and a
//! BENCH DOUBLE of Upstash that answers every call after a fixed delay (for "storage is slow").

use crate::layout::{Result, root};
use crate::procs::{free_port, wait_for_port};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const TOKEN: &str = "bench-token";

pub struct Emulated {
    redis: Child,
    emulator: Child,
    pub redis_port: u16,
    pub url: String,
}

impl Emulated {
    pub fn start() -> Result<Emulated> {
        let redis_port = free_port();
        let redis = Command::new("redis-server")
            .args([
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server: {e} (run `cargo xtask provision`)"))?;
        wait_for_port(redis_port, Duration::from_secs(10))?;
        let port = free_port();
        let server =
            root().join("tests/js/node_modules/@humanwhocodes/upstash-redis-server/dist/server.js");
        let emulator = Command::new("node")
            .arg(server)
            .env("URS_TOKEN", TOKEN)
            .env("PORT", port.to_string())
            .env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("the emulator: {e}"))?;
        wait_for_port(port, Duration::from_secs(20))?;
        Ok(Emulated {
            redis,
            emulator,
            redis_port,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KV_REST_API_URL", self.url.clone()),
            ("KV_REST_API_TOKEN", TOKEN.into()),
        ]
    }

    pub fn redis(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.redis_port.to_string(), "--raw"])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }

    /// Empties Redis and its command counters between runs.
    pub fn reset(&self) {
        self.redis(&["FLUSHALL"]);
        self.redis(&["CONFIG", "RESETSTAT"]);
    }

    pub fn lpush_calls(&self) -> u64 {
        self.redis(&["INFO", "commandstats"])
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_lpush:calls="))
            .and_then(|rest| rest.split(',').next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Emulated {
    fn drop(&mut self) {
        for child in [&mut self.emulator, &mut self.redis] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// BENCH DOUBLE: answers every Upstash call with success after `delay`, one thread per
/// connection, keep-alive. Runs until the process ends.
pub fn delayed_upstash(delay: Duration) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut pipeline = false;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let lower = line.to_ascii_lowercase();
                        if lower.starts_with("post /pipeline") {
                            pipeline = true;
                        }
                        if let Some(value) = lower.strip_prefix("content-length:") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    std::thread::sleep(delay);
                    let answer = if pipeline {
                        r#"[{"result":1},{"result":"OK"}]"#
                    } else {
                        r#"{"result":[]}"#
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if reader.get_mut().write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}
