//! Starts the built function as Vercel runs it (production mode, over the runtime's IPC socket)
//! and checks the promise a deployment lives by: a record that cannot be stored leaves its
//! failure line in its own request's log, before that request's `end`.
//!
//! - Vercel's side is played here: a Unix socket named by `VERCEL_IPC_PATH`, the
//!   `server-started` message and its `httpPort`, a request carrying
//!   `x-vercel-internal-invocation-id` and `x-vercel-internal-request-id`.
//! - `VERCEL=1` and no Upstash settings: what a deployment without the integration gets. The
//!   store is unconfigured, so the record fails at once and must come back as an IPC `log`
//!   message at error level, attributed to the request, holding the record, then an `end`.

use crate::run::Result;
use serde_json::Value;
use std::io::Read;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const INVOCATION: &str = "inv-probe-1";
const REQUEST: u64 = 41;

/// Kills the function when the probe ends, whatever happened.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn probe(executable: &Path, scratch: &Path) -> Result {
    let socket = scratch.join("vercel-ipc.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket).map_err(|e| format!("bind {socket:?}: {e}"))?;
    // The runtime reports the port it was given, not the one it bound: give it a real one.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let child = Command::new(executable)
        .env_clear()
        .env("VERCEL", "1")
        .env("VERCEL_IPC_PATH", &socket)
        .env("VERCEL_DEV_PORT", port.to_string())
        .current_dir(scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the built function: {e}"))?;
    let _server = Server(child);
    let messages = receive(listener);

    let started = next(&messages, |m| m["type"] == "server-started")?;
    let port = started["payload"]["httpPort"]
        .as_u64()
        .ok_or_else(|| format!("server-started without httpPort: {started}"))?;
    let receipt = fire(port as u16)?;
    let id = receipt["id"].as_str().unwrap_or_default().to_string();

    let ours = |m: &Value| {
        m["payload"]["context"]["invocationId"] == INVOCATION
            && m["payload"]["context"]["requestId"] == REQUEST
    };
    let log = next(&messages, |m| m["type"] == "log" || m["type"] == "end")?;
    if log["type"] != "log" || !ours(&log) || log["payload"]["level"] != "error" {
        return Err(format!(
            "expected the failure line as an error log of the request, got {log}"
        ));
    }
    let text = decode_base64(log["payload"]["message"].as_str().unwrap_or_default())?;
    let line: Value = serde_json::from_str(&text)
        .map_err(|_| format!("the error log is not a failure line: {text:?}"))?;
    if line["event"] != "wait_until.write_failed" || line["records"][0]["id"] != id.as_str() {
        return Err(format!(
            "the failure line does not hold record {id}: {text}"
        ));
    }
    let end = next(&messages, |m| m["type"] == "end")?;
    if !ours(&end) {
        return Err(format!("an end for another request: {end}"));
    }
    println!(
        "vercel-build: production mode over IPC: the failure line reached its request before its end"
    );
    Ok(())
}

/// Every NUL-terminated JSON message of the one runtime that connects, as it arrives.
fn receive(listener: UnixListener) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 8192];
        while let Ok(n) = stream.read(&mut chunk) {
            if n == 0 {
                return;
            }
            buffer.extend_from_slice(&chunk[..n]);
            while let Some(end) = buffer.iter().position(|b| *b == 0) {
                let raw: Vec<u8> = buffer.drain(..=end).collect();
                let message = serde_json::from_slice(&raw[..end]).unwrap_or(Value::Null);
                if tx.send(message).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The next message that `wanted`, skipping others, within 10 s.
fn next(messages: &mpsc::Receiver<Value>, wanted: impl Fn(&Value) -> bool) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match messages.recv_timeout(left) {
            Ok(message) if wanted(&message) => return Ok(message),
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    Err("the built function sent no expected IPC message within 10 s".into())
}

/// `GET /api/wait-until` with Vercel's internal ids; the receipt.
fn fire(port: u16) -> Result<Value> {
    let ids = format!(
        "x-vercel-internal-invocation-id: {INVOCATION}\r\nx-vercel-internal-request-id: {REQUEST}\r\n"
    );
    let (status, receipt) = super::probe::get_with(port, "/api/wait-until", &ids)?;
    if status != 200 || receipt["recorded"] != true {
        return Err(format!(
            "/api/wait-until in production mode: {status} {receipt}"
        ));
    }
    Ok(receipt)
}

/// Standard base64 (the runtime's encoding of log text), decoded to UTF-8.
fn decode_base64(text: &str) -> Result<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| format!("not base64: {text:?}"))?;
    String::from_utf8(bytes).map_err(|_| "a log message that is not UTF-8".into())
}
