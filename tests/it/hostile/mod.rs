//! The function attacked the way the internet will: raw requests (nothing normalised or refused
//! by a client library) against the real binary, which writes through the Upstash test double
//! to real Redis so that what reaches storage can be read byte for byte. One test per concern,
//! each against an app of its own:
//!
//! - Every case gets a clean HTTP answer: a status line, never a 5xx, never a connection closed
//!   or reset without one, never a hang.
//! - A case that stores a record stores exactly the sanitised fields it names, and the record
//!   reads back unchanged through `/api/recent` (it is not skipped as invalid).
//! - Every record sent to storage obeys the record's rules (no control or format character
//!   among them), no IP reaches storage or the logs, nothing is printed on stderr, and the app
//!   still serves `/api/recent` afterwards.
//!
//! The user agents concern then plants another writer's records in the same storage, breaking
//! the rules only by a bidi character, and checks `/api/recent` skips and counts them.
//!
//! Failures are collected, so one run names every failing case of a concern.
//!
//! What `bundled`'s path check refuses before any route (dot segments, empty segments, broken
//! or non-UTF-8 percent-encoding, a target without a leading slash) is proven by its unit tests
//! in `bundled/src/path.rs` and `bundled/src/pattern.rs`, input for input; `local.rs` proves
//! such a path ends in our 404. Requests the HTTP parser refuses (`refused`) never reach our
//! code: they are kept to prove the server still answers them cleanly.

mod country;
mod framing;
mod ip_headers;
mod methods;
mod paths;
mod sizes;
mod user_agents;

use crate::behind_the_double;
use serde_json::Value;
use std::time::Duration;
use testkit::app::App;
use testkit::fake_upstash::FakeUpstash;
use testkit::poll_for;
use testkit::raw_http::closed;
use testkit::redis::Redis;
use wait_until::record::{
    MAX_METHOD_CHARS, MAX_STORED_BYTES, MAX_USER_AGENT_CHARS, country_to_flag, is_removed,
};

/// Cases per concern (97 in all), of which the HTTP parser refuses some before our code.
///
/// | concern       | cases | refused by the HTTP parser |
/// |---------------|-------|----------------------------|
/// | user_agents   | 28    | 5                          |
/// | country       | 17    | 0                          |
/// | ip_headers    | 11    | 0                          |
/// | methods       | 10    | 1                          |
/// | framing       | 10    | 4                          |
/// | paths         | 10    | 1                          |
/// | sizes         | 11    | 3                          |
pub(crate) const CASES: &[(&str, usize)] = &[
    ("user_agents", 28),
    ("country", 17),
    ("ip_headers", 11),
    ("methods", 10),
    ("framing", 10),
    ("paths", 10),
    ("sizes", 11),
];

/// Addresses from the documentation ranges, and a private one: none may ever be stored.
const IPV4: &str = "198.51.100.23";
const IPV6: &str = "2001:db8::17";
const PRIVATE_IP: &str = "10.0.0.1";

/// The end of a request line, and the one header every HTTP/1.1 request needs.
const H: &str = "HTTP/1.1\r\nhost: x";

/// How long a stored case's record may take to settle.
const SETTLED_WITHIN: Duration = Duration::from_secs(5);

/// What a case expects besides a clean answer.
enum Expect {
    /// This status. No record is checked by id (not `/api/wait-until`, or no body to read the
    /// id from), though any record it stored is still checked against the rules.
    Status(u16),
    /// `200` from `/api/wait-until`, and a record stored with exactly these fields.
    Stored {
        method: String,
        user_agent: String,
        country: Option<&'static str>,
    },
}

struct Case {
    name: &'static str,
    request: Vec<u8>,
    expect: Expect,
}

fn stored(method: &str, user_agent: impl Into<String>, country: Option<&'static str>) -> Expect {
    Expect::Stored {
        method: method.to_string(),
        user_agent: user_agent.into(),
        country,
    }
}

/// `GET /api/wait-until` with these extra header lines (each starting with `\r\n`).
fn fire(name: &'static str, headers: impl AsRef<[u8]>, expect: Expect) -> Case {
    let mut head = format!("GET /api/wait-until {H}").into_bytes();
    head.extend_from_slice(headers.as_ref());
    Case {
        name,
        request: closed(head),
        expect,
    }
}

/// `GET /api/wait-until` with this user agent, stored as `expected`.
fn user_agent(name: &'static str, value: impl AsRef<[u8]>, expected: impl Into<String>) -> Case {
    let mut header = b"\r\nuser-agent: ".to_vec();
    header.extend_from_slice(value.as_ref());
    fire(name, header, stored("GET", expected, None))
}

/// A request head (closed for us) and the status it must get from our code.
fn answered(name: &'static str, head: impl AsRef<[u8]>, status: u16) -> Case {
    Case {
        name,
        request: closed(head),
        expect: Expect::Status(status),
    }
}

/// A request head (closed for us) that the HTTP parser refuses with `status` before our code.
fn refused(name: &'static str, head: impl AsRef<[u8]>, status: u16) -> Case {
    answered(name, head, status)
}

/// A request head (closed for us) to `/api/wait-until` that must store a record as `expect`.
fn recorded(name: &'static str, head: impl AsRef<[u8]>, expect: Expect) -> Case {
    Case {
        name,
        request: closed(head),
        expect,
    }
}

/// Exactly these bytes, nothing added.
fn verbatim(name: &'static str, request: impl AsRef<[u8]>, expect: Expect) -> Case {
    Case {
        name,
        request: request.as_ref().to_vec(),
        expect,
    }
}

/// Sends every case of `concern` to an app of its own and checks what it answered, stored and
/// printed; panics naming every failure. Hands back the storage and the app, still running, for
/// a concern that goes on with what they hold.
async fn attack(concern: &str, cases: Vec<Case>) -> (Redis, FakeUpstash, App) {
    let expected = CASES
        .iter()
        .find(|(name, _)| *name == concern)
        .map(|(_, count)| *count);
    assert_eq!(
        Some(cases.len()),
        expected,
        "the {concern} table and its count in CASES disagree"
    );
    let (redis, fake, app) = behind_the_double(&[]).await;

    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = run(&app, &fake, case).await {
            failures.push(format!("{}: {why}", case.name));
        }
    }

    // Whatever any case stored (HEAD and CONNECT too) obeys the rules.
    let sent = sent_records(&fake);
    for raw in &sent {
        if let Err(why) = obeys_the_rules(raw) {
            failures.push(format!("stored {raw}: {why}"));
        }
    }
    // No IP anywhere: not in what reached storage, not in what the app printed.
    let bodies: Vec<String> = fake.seen().iter().map(|s| s.body.to_string()).collect();
    let printed = app.stdout().into_iter().chain(app.stderr());
    for text in bodies.into_iter().chain(printed) {
        if [IPV4, IPV6, PRIVATE_IP].iter().any(|ip| text.contains(ip)) {
            failures.push(format!("an IP left the request: {text}"));
        }
    }
    // Nothing failed or panicked in the background, and the app is still serving.
    for line in app.stderr() {
        failures.push(format!("stderr: {line}"));
    }
    let (status, body) = app.recent().await;
    if status != 200 {
        failures.push(format!("/api/recent afterwards: {status} {body}"));
    }

    assert!(
        failures.is_empty(),
        "{} failures in {} {concern} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!(
        "{} {concern} cases, {} records stored",
        cases.len(),
        sent.len()
    );
    (redis, fake, app)
}

async fn run(app: &App, fake: &FakeUpstash, case: &Case) -> Result<(), String> {
    let answer = app.send_raw(case.request.clone()).await?;
    let (status, body) = (answer.status, answer.body);
    if status >= 500 {
        return Err(format!("answered {status} {body}"));
    }
    let (method, user_agent, country) = match &case.expect {
        Expect::Status(expected) if status == *expected => return Ok(()),
        Expect::Status(expected) => {
            return Err(format!("answered {status}, expected {expected}: {body}"));
        }
        Expect::Stored {
            method,
            user_agent,
            country,
        } => (method, user_agent, *country),
    };
    if status != 200 {
        return Err(format!("answered {status}, expected 200: {body}"));
    }
    let id = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|receipt| receipt["id"].as_str().map(str::to_string))
        .ok_or_else(|| format!("no id in the answer {body:?}"))?;

    // The record as the app sent it to storage, once the app says it is stored.
    let raw = settled_record(app, fake, &id).await?;
    obeys_the_rules(&raw)?;
    let record: Value = serde_json::from_str(&raw).map_err(|e| format!("{e}: {raw}"))?;
    let flag = country.map(country_to_flag);
    let fields = [
        ("method", Some(method.as_str())),
        ("userAgent", Some(user_agent.as_str())),
        ("country", country),
        ("flag", flag.as_deref()),
    ];
    for (field, expected) in fields {
        if record.get(field).and_then(Value::as_str) != expected {
            return Err(format!(
                "stored {field} {}, expected {expected:?}",
                record[field]
            ));
        }
    }

    // And it reads back as it was stored: not skipped, not altered.
    let (status, recent) = app.recent().await;
    let listed = recent["requests"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["id"] == id.as_str()));
    match listed {
        Some(listed) if *listed == record => Ok(()),
        Some(listed) => Err(format!("read back as {listed}, stored as {record}")),
        None => Err(format!("not in /api/recent ({status}): {recent}")),
    }
}

/// Every record sent to storage, as the raw JSON sent, in order.
fn sent_records(fake: &FakeUpstash) -> Vec<String> {
    fake.seen()
        .iter()
        .flat_map(|s| s.written_records())
        .collect()
}

/// The id of a raw record, if it has one.
fn id_of(raw: &str) -> Option<String> {
    let record: Value = serde_json::from_str(raw).ok()?;
    record["id"].as_str().map(str::to_string)
}

/// The record with `id` as sent to storage, once the app has printed that it is stored.
async fn settled_record(app: &App, fake: &FakeUpstash, id: &str) -> Result<String, String> {
    let settled = poll_for(SETTLED_WITHIN, || async {
        if app.stored_ids().iter().any(|stored| stored == id) {
            let sent = sent_records(fake)
                .into_iter()
                .find(|raw| id_of(raw).as_deref() == Some(id));
            return Some(sent.ok_or_else(|| "stored, yet never sent to storage".to_string()));
        }
        let failed = app.stderr().into_iter().find(|line| line.contains(id));
        failed.map(|line| Err(format!("not stored: {line}")))
    })
    .await;
    settled.unwrap_or_else(|| Err(format!("no success line within {SETTLED_WITHIN:?}")))
}

/// The rules of a stored record, checked on the raw JSON the app wrote.
fn obeys_the_rules(raw: &str) -> Result<(), String> {
    if raw.len() > MAX_STORED_BYTES {
        return Err(format!("{} bytes, over {MAX_STORED_BYTES}", raw.len()));
    }
    let record: Value = serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
    let record = record.as_object().ok_or("not an object")?;
    for key in record.keys() {
        if !["id", "timestamp", "method", "userAgent", "country", "flag"].contains(&key.as_str()) {
            return Err(format!("unexpected field {key:?}"));
        }
    }
    let text = |field: &str, max: usize| -> Result<(), String> {
        let value = record
            .get(field)
            .and_then(Value::as_str)
            .ok_or(format!("{field} is not text"))?;
        if value.chars().count() > max || value.chars().any(is_removed) {
            return Err(format!("{field} breaks the rules: {value:?}"));
        }
        Ok(())
    };
    text("id", 64)?;
    text("method", MAX_METHOD_CHARS)?;
    text("userAgent", MAX_USER_AGENT_CHARS)?;
    if !record.get("timestamp").is_some_and(Value::is_u64) {
        return Err("timestamp is not a number".to_string());
    }
    let country = record.get("country").map(|c| c.as_str().unwrap_or("?"));
    let flag = record.get("flag").map(|f| f.as_str().unwrap_or("?"));
    match (country, flag) {
        (None, None) => Ok(()),
        (Some(country), Some(flag))
            if country.len() == 2
                && country.bytes().all(|b| b.is_ascii_uppercase())
                && flag == country_to_flag(country) =>
        {
            Ok(())
        }
        other => Err(format!("country and flag break the rules: {other:?}")),
    }
}
