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
//! - The answer carries nosniff and the page's referrer policy, as in local mode: production
//!   mode goes through the same responses, and this proves it on the deployed artifact.

use super::output::Headers;
use super::probe::Server;
use crate::run::Result;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::vercel_ipc::{Context, Ipc, Received};

/// How long each step may take.
const WITHIN: Duration = Duration::from_secs(10);

pub fn probe(executable: &Path, scratch: &Path, page_headers: &Headers) -> Result {
    let ipc = Ipc::listen(scratch);
    // The runtime reports the port it was given, not the one it bound: give it a real one.
    let port = testkit::free_port();
    let child = Command::new(executable)
        .env_clear()
        .env("VERCEL", "1")
        .env("VERCEL_IPC_PATH", &ipc.path)
        .env("VERCEL_DEV_PORT", port.to_string())
        .current_dir(scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the built function: {e}"))?;
    let _server = Server(child);

    let port = ipc
        .try_wait(WITHIN, Received::http_port)
        .ok_or("the built function sent no server-started within 10 s")?;
    let ours = Context {
        invocation_id: "inv-probe-1".into(),
        request_id: 41,
    };
    let receipt = fire(port, &ours, page_headers)?;
    let id = receipt["id"].as_str().unwrap_or_default().to_string();

    // The request's first message after its response is its failure line, then its end.
    ipc.try_wait(WITHIN, |r| {
        r.messages.iter().any(|m| m.kind() == "end").then_some(())
    })
    .ok_or("the built function sent no end within 10 s")?;
    let messages = ipc.messages();
    let mut after_response = messages
        .iter()
        .filter(|m| m.kind() == "log" || m.kind() == "end");
    let first = after_response.next().ok_or("no log or end message")?;
    let log = first
        .log()
        .filter(|log| log.context.as_ref() == Some(&ours) && log.level == "error");
    let Some(log) = log else {
        return Err(format!(
            "expected the failure line as an error log of the request, got {}",
            first.json
        ));
    };
    let line: Value = serde_json::from_str(&log.text)
        .map_err(|_| format!("the error log is not a failure line: {:?}", log.text))?;
    if line["event"] != "wait_until.write_failed" || line["items"][0]["id"] != id.as_str() {
        return Err(format!(
            "the failure line does not hold record {id}: {}",
            log.text
        ));
    }
    let end = after_response
        .find(|m| m.kind() == "end")
        .ok_or("no end after the failure line")?;
    if end.context().as_ref() != Some(&ours) {
        return Err(format!("an end for another request: {}", end.json));
    }
    println!(
        "vercel-build: production mode over IPC: the answer carried nosniff and the referrer \
         policy, and the failure line reached its request before its end"
    );
    Ok(())
}

/// `GET /api/wait-until` with Vercel's internal ids; the receipt, once its headers are checked.
fn fire(port: u16, context: &Context, page_headers: &Headers) -> Result<Value> {
    let ids = context.headers();
    let headers: Vec<(&str, &str)> = ids.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = "/api/wait-until";
    let answer = super::probe::answer(port, path, &headers)?;
    let receipt = super::probe::body_json(path, &answer)?;
    if answer.status != 200 || receipt["recorded"] != true {
        return Err(format!(
            "{path} in production mode: {} {receipt}",
            answer.status
        ));
    }
    super::probe::expect_security_headers(
        "/api/wait-until in production mode",
        &answer,
        page_headers,
    )?;
    Ok(receipt)
}
