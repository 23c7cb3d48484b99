//! Starts the built function locally, as `cargo run` does (`VERCEL_DEV_PORT`), and asks every
//! route for its answer over plain HTTP/1.1, by the original path, as Vercel passes it on.
//!
//! - The environment is emptied and the folder is a scratch one, so no Upstash setting and no
//!   `.env.local` reach it: it must use its memory store, and says so.
//! - The server is killed when the probe ends, whatever happened.
//! - The page it serves must carry exactly the headers `config.json` gives the static page on
//!   Vercel (the function's come from the Rust list, `vercel.json`'s by hand), and every API
//!   answer nosniff and the same referrer policy.

use super::output::Headers;
use crate::run::Result;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::raw_http::{self, Answer};

/// What every answer of the function carries, with the values the page carries on Vercel.
const EVERY_ANSWER: [&str; 2] = ["x-content-type-options", "referrer-policy"];

/// Kills the server when the probe ends, whatever happened.
pub(super) struct Server(pub(super) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn serve_and_probe(executable: &Path, page_headers: &Headers) -> Result {
    let port = testkit::free_port();
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

    let (status, receipt) = get(port, "/api/wait-until", &[])?;
    if status != 200 || receipt["recorded"] != true || receipt["storage"] != "memory" {
        return Err(format!("/api/wait-until answered {status} {receipt}"));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, recent) = get(port, "/api/recent", &[])?;
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
    // The awaited variant answers once its record is stored: listed by the very next request.
    let (status, awaited) = get(port, "/api/wait-until?await=1", &[])?;
    let (_, recent) = get(port, "/api/recent", &[])?;
    if status != 200 || awaited["awaited"] != true || recent["requests"][0]["id"] != awaited["id"] {
        return Err(format!(
            "/api/wait-until?await=1 answered {status} {awaited}, then /api/recent {recent}"
        ));
    }
    expect(
        port,
        "/api/source",
        200,
        &serde_json::json!({"source": null, "deploySteps": null}),
    )?;
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
        "vercel-build: /api/wait-until (and ?await=1), /api/recent, /api/source, /api/hello and a \
         404 answered as expected"
    );

    let page = answer(port, "/", &[])?;
    for (name, value) in page_headers {
        if page.header(name) != Some(value.as_str()) {
            return Err(format!(
                "the function serves / with {name}: {:?}, but config.json gives the page on \
                 Vercel {value:?}: vercel.json and src/security.rs differ",
                page.header(name)
            ));
        }
    }
    for path in [
        "/api/wait-until",
        "/api/recent",
        "/api/source",
        "/api/hello",
        "/api/x",
    ] {
        expect_security_headers(path, &answer(port, path, &[])?, page_headers)?;
    }
    println!(
        "vercel-build: the function serves the page with the headers config.json gives it, and \
         every API answer with {EVERY_ANSWER:?}"
    );
    Ok(())
}

/// `answer` (to `what`) carries [`EVERY_ANSWER`], with the page's values.
pub(super) fn expect_security_headers(what: &str, answer: &Answer, page: &Headers) -> Result {
    for name in EVERY_ANSWER {
        let wanted = page.get(name).map(String::as_str);
        if wanted.is_none() || answer.header(name) != wanted {
            return Err(format!(
                "{what}: {name} is {:?}, the page's is {wanted:?}",
                answer.header(name)
            ));
        }
    }
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
    let (got_status, got_body) = get(port, path, &[])?;
    if got_status == status && got_body == *body {
        Ok(())
    } else {
        Err(format!(
            "{path}: expected {status} {body}, got {got_status} {got_body}"
        ))
    }
}

/// A GET with `headers` over a fresh connection; the status and the body as JSON.
pub(super) fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Result<(u16, Value)> {
    let answer = answer(port, path, headers)?;
    Ok((answer.status, body_json(path, &answer)?))
}

/// A GET with `headers` over a fresh connection, as it came.
pub(super) fn answer(port: u16, path: &str, headers: &[(&str, &str)]) -> Result<Answer> {
    raw_http::get(port, path, headers, Duration::from_secs(10)).map_err(|e| format!("{path}: {e}"))
}

pub(super) fn body_json(path: &str, answer: &Answer) -> Result<Value> {
    serde_json::from_str(&answer.body)
        .map_err(|_| format!("{path}: body is not JSON: {:?}", answer.body))
}
