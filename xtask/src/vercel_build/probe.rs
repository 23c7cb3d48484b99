//! Starts the built function as `vercel dev` would (`VERCEL_DEV_PORT`) and asks every route for
//! its answer over plain HTTP/1.1, by the original path, as Vercel passes it on.
//!
//! - The environment is emptied and the folder is a scratch one, so no Upstash setting and no
//!   `.env.local` reach it: it must use its memory store, and says so.
//! - The server is killed when the probe ends, whatever happened.

use crate::run::Result;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the probe ends, whatever happened.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve_and_probe(executable: &Path) -> Result {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let mut child = Command::new(executable)
        .env_clear()
        .env("VERCEL_DEV_PORT", port.to_string())
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the built function: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let _server = Server(child);
    wait_for_listening(stdout, port)?;

    let (status, receipt) = get(port, "/api/wait-until")?;
    if status != 200 || receipt["recorded"] != true || receipt["storage"] != "memory" {
        return Err(format!("/api/wait-until answered {status} {receipt}"));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, recent) = get(port, "/api/recent")?;
        let ids: Vec<&Value> = recent["requests"]
            .as_array()
            .map(|r| r.iter().map(|r| &r["id"]).collect())
            .unwrap_or_default();
        if status == 200 && ids.contains(&&receipt["id"]) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the fired record never reached /api/recent: {status} {recent}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    expect(
        port,
        "/api/hello",
        200,
        &serde_json::json!({"hello": "world"}),
    )?;
    expect(
        port,
        "/api/x",
        404,
        &serde_json::json!({"error": "not found"}),
    )?;
    println!(
        "vercel-build: /api/wait-until, /api/recent, /api/hello and a 404 answered as expected"
    );
    Ok(())
}

fn wait_for_listening(stdout: impl Read + Send + 'static, port: u16) -> Result {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            let _ = tx.send(line);
        }
    });
    let expected = format!("Dev server listening: {port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) if line == expected => return Ok(()),
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    Err("the built function did not say `Dev server listening` within 10 s".into())
}

fn expect(port: u16, path: &str, status: u16, body: &Value) -> Result {
    let (got_status, got_body) = get(port, path)?;
    if got_status == status && got_body == *body {
        Ok(())
    } else {
        Err(format!(
            "{path}: expected {status} {body}, got {got_status} {got_body}"
        ))
    }
}

/// A GET over a fresh connection; the status and the body as JSON.
fn get(port: u16, path: &str) -> Result<(u16, Value)> {
    get_with(port, path, "")
}

/// A GET with `extra` header lines (each ending in CRLF); the status and the body as JSON.
pub(super) fn get_with(port: u16, path: &str, extra: &str) -> Result<(u16, Value)> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{extra}\r\n"
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("read {path}: {e}"))?;
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{path}: not an HTTP answer"))?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json =
        serde_json::from_str(body).map_err(|_| format!("{path}: body is not JSON: {body:?}"))?;
    Ok((status, json))
}
