//! The function attacked the way the internet will: raw requests (nothing normalised or refused
//! by a client library) against the real binary, which writes through the Upstash test double
//! to real Redis so that what reaches storage can be read byte for byte.
//!
//! - Every case gets a clean HTTP answer: a status line, never a 5xx, never a connection closed
//!   or reset without one, never a hang.
//! - A case that stores a record stores exactly the sanitised fields it names, and the record
//!   reads back unchanged through `/api/recent` (it is not skipped as invalid).
//! - Every record sent to storage obeys the record's rules, and no IP reaches storage or logs.
//!
//! Failures are collected, so one run names every failing case.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::app::App;
use support::fake_upstash::FakeUpstash;
use support::redis::Redis;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wait_until::record::{
    MAX_METHOD_CHARS, MAX_STORED_BYTES, MAX_USER_AGENT_CHARS, country_to_flag,
};

/// Addresses from the documentation ranges, and a private one: none may ever be stored.
const IPV4: &str = "198.51.100.23";
const IPV6: &str = "2001:db8::17";
const PRIVATE_IP: &str = "10.0.0.1";

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

/// `head` (request line and headers), then `connection: close` and the blank line.
fn close(head: impl AsRef<[u8]>) -> Vec<u8> {
    let mut request = head.as_ref().to_vec();
    request.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    request
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
    let mut head = b"GET /api/wait-until HTTP/1.1\r\nhost: x".to_vec();
    head.extend_from_slice(headers.as_ref());
    Case {
        name,
        request: close(head),
        expect,
    }
}

/// `GET /api/wait-until` with this user agent, stored as `expected`.
fn user_agent(name: &'static str, value: impl AsRef<[u8]>, expected: impl Into<String>) -> Case {
    let mut header = b"\r\nuser-agent: ".to_vec();
    header.extend_from_slice(value.as_ref());
    fire(name, header, stored("GET", expected, None))
}

/// `GET /api/wait-until` with these country headers, stored with `expected`.
fn country(name: &'static str, headers: &str, expected: Option<&'static str>) -> Case {
    fire(name, headers, stored("GET", "", expected))
}

/// `GET /api/wait-until` with these IP headers: stored with nothing from them.
fn ip_headers(name: &'static str, headers: String) -> Case {
    fire(name, headers, stored("GET", "", None))
}

/// A request head (closed for us) and the status it must get.
fn answered(name: &'static str, head: impl AsRef<[u8]>, status: u16) -> Case {
    Case {
        name,
        request: close(head),
        expect: Expect::Status(status),
    }
}

/// A request head (closed for us) to `/api/wait-until` that must store a record as `expect`.
fn recorded(name: &'static str, head: impl AsRef<[u8]>, expect: Expect) -> Case {
    Case {
        name,
        request: close(head),
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

fn cases() -> Vec<Case> {
    let h = "HTTP/1.1\r\nhost: x";
    vec![
        // User agents: oversized, not UTF-8, control characters, injections.
        user_agent(
            "oversized user agent",
            "A".repeat(20_000),
            "A".repeat(MAX_USER_AGENT_CHARS),
        ),
        user_agent(
            "oversized two-byte user agent",
            "é".repeat(700),
            "é".repeat(MAX_USER_AGENT_CHARS),
        ),
        user_agent(
            "oversized four-byte user agent (the largest record)",
            "😀".repeat(600),
            "😀".repeat(MAX_USER_AGENT_CHARS),
        ),
        user_agent(
            "oversized user agent of quotes (escaped in JSON)",
            "\"".repeat(600),
            "\"".repeat(MAX_USER_AGENT_CHARS),
        ),
        user_agent(
            "oversized user agent of backslashes",
            "\\".repeat(600),
            "\\".repeat(MAX_USER_AGENT_CHARS),
        ),
        answered(
            "user agent over the server's header limit",
            format!(
                "GET /api/wait-until {h}\r\nuser-agent: {}",
                "A".repeat(1 << 20)
            ),
            431,
        ),
        user_agent(
            "non-UTF-8 user agent",
            b"a\xff\xfe\xc3b",
            "a\u{FFFD}\u{FFFD}\u{FFFD}b",
        ),
        user_agent(
            "overlong UTF-8 in the user agent",
            b"\xc0\xaf\xe0\x80\xaf",
            "\u{FFFD}".repeat(5),
        ),
        user_agent(
            "UTF-16 surrogate in the user agent",
            b"\xed\xa0\x80x",
            "\u{FFFD}\u{FFFD}\u{FFFD}x",
        ),
        user_agent(
            "C1 control characters (NEL, CSI) in the user agent",
            "a\u{85}b\u{9b}31m",
            "ab31m",
        ),
        user_agent("tab in the user agent", "a\tb", "ab"),
        answered(
            "NUL in the user agent (refused by the HTTP parser)",
            format!("GET /api/wait-until {h}\r\nuser-agent: a\u{0}b"),
            400,
        ),
        answered(
            "escape sequence in the user agent (refused by the HTTP parser)",
            format!("GET /api/wait-until {h}\r\nuser-agent: a\u{1b}[31mred"),
            400,
        ),
        answered(
            "DEL in the user agent (refused by the HTTP parser)",
            format!("GET /api/wait-until {h}\r\nuser-agent: a\u{7f}b"),
            400,
        ),
        answered(
            "bare CR in the user agent (refused by the HTTP parser)",
            format!("GET /api/wait-until {h}\r\nuser-agent: a\rforged: 1"),
            400,
        ),
        answered(
            "folded header line (refused by the HTTP parser)",
            format!("GET /api/wait-until {h}\r\nuser-agent: a\r\n folded"),
            400,
        ),
        user_agent(
            "script injection",
            "<script>alert(1)</script>",
            "<script>alert(1)</script>",
        ),
        user_agent(
            "markup injection",
            "<img src=x onerror=alert(1)>",
            "<img src=x onerror=alert(1)>",
        ),
        user_agent(
            "JSON injection",
            r#"","country":"ZZ","flag":"x","ip":"1.2.3.4"#,
            r#"","country":"ZZ","flag":"x","ip":"1.2.3.4"#,
        ),
        user_agent(
            "JSON injection with escapes",
            r#"\",\"country\":\"ZZ\"}"#,
            r#"\",\"country\":\"ZZ\"}"#,
        ),
        user_agent(
            "unicode line and paragraph separators",
            "a\u{2028}b\u{2029}c",
            "a\u{2028}b\u{2029}c",
        ),
        user_agent("right-to-left override", "abc\u{202E}fed", "abc\u{202E}fed"),
        user_agent("padded user agent", "   padded   ", "padded"),
        user_agent("empty user agent", "", ""),
        fire(
            "two user agents (the first is kept)",
            "\r\nuser-agent: one\r\nuser-agent: two",
            stored("GET", "one", None),
        ),
        // Countries: bogus, lower-case, three letters, repeated.
        country(
            "lower-case country",
            "\r\nx-vercel-ip-country: fr",
            Some("FR"),
        ),
        country(
            "mixed-case country",
            "\r\nx-vercel-ip-country: fR",
            Some("FR"),
        ),
        country(
            "country header name in odd case",
            "\r\nX-Vercel-IP-Country: de",
            Some("DE"),
        ),
        country(
            "padded country",
            "\r\nx-vercel-ip-country:   it  ",
            Some("IT"),
        ),
        country(
            "two unassigned letters are kept as letters",
            "\r\nx-vercel-ip-country: ZZ",
            Some("ZZ"),
        ),
        country("three-letter country", "\r\nx-vercel-ip-country: FRA", None),
        country("one-letter country", "\r\nx-vercel-ip-country: F", None),
        country("digits as a country", "\r\nx-vercel-ip-country: 12", None),
        country("non-ASCII country", "\r\nx-vercel-ip-country: ÉS", None),
        fire(
            "Latin-1 country",
            b"\r\nx-vercel-ip-country: \xc9S",
            stored("GET", "", None),
        ),
        country(
            "flag emoji as a country",
            "\r\nx-vercel-ip-country: 🇫🇷",
            None,
        ),
        country(
            "repeated country",
            "\r\nx-vercel-ip-country: FR\r\nx-vercel-ip-country: DE",
            None,
        ),
        country(
            "repeated identical country",
            "\r\nx-vercel-ip-country: FR\r\nx-vercel-ip-country: FR",
            None,
        ),
        country("country list", "\r\nx-vercel-ip-country: FR, DE", None),
        country("empty country", "\r\nx-vercel-ip-country: ", None),
        country("country with markup", "\r\nx-vercel-ip-country: <b>", None),
        country(
            "an IP as the country",
            &format!("\r\nx-vercel-ip-country: {IPV4}"),
            None,
        ),
        // Every IP header we know of, and the geography Vercel adds.
        ip_headers(
            "x-forwarded-for",
            format!("\r\nx-forwarded-for: {IPV4}, {PRIVATE_IP}"),
        ),
        ip_headers(
            "x-forwarded-for with IPv6",
            format!("\r\nx-forwarded-for: {IPV6}"),
        ),
        ip_headers("x-real-ip", format!("\r\nx-real-ip: {IPV4}")),
        ip_headers(
            "x-vercel-forwarded-for",
            format!("\r\nx-vercel-forwarded-for: {IPV4}"),
        ),
        ip_headers(
            "x-vercel-proxied-for",
            format!("\r\nx-vercel-proxied-for: {IPV4}"),
        ),
        ip_headers(
            "forwarded",
            format!("\r\nforwarded: for={IPV4};proto=https, for=\"[{IPV6}]\""),
        ),
        ip_headers(
            "cf-connecting-ip and true-client-ip",
            format!("\r\ncf-connecting-ip: {IPV4}\r\ntrue-client-ip: {IPV6}"),
        ),
        ip_headers(
            "x-client-ip, x-cluster-client-ip, client-ip, fastly-client-ip",
            format!(
                "\r\nx-client-ip: {IPV4}\r\nx-cluster-client-ip: {IPV4}\r\nclient-ip: {IPV4}\
                 \r\nfastly-client-ip: {IPV4}"
            ),
        ),
        ip_headers(
            "x-originating-ip, x-remote-addr, via",
            format!(
                "\r\nx-originating-ip: {IPV4}\r\nx-remote-addr: {IPV4}\r\nvia: 1.1 {PRIVATE_IP}"
            ),
        ),
        ip_headers(
            "an IP as the forwarded host",
            format!("\r\nx-forwarded-host: {IPV4}\r\nx-host: {IPV6}"),
        ),
        ip_headers(
            "Vercel geography headers",
            format!(
                "\r\nx-vercel-ip-city: {IPV4}\r\nx-vercel-ip-latitude: {IPV4}\
                 \r\nx-vercel-ip-country-region: {IPV6}"
            ),
        ),
        // Methods.
        recorded(
            "PROPFIND on wait-until",
            format!("PROPFIND /api/wait-until {h}"),
            stored("PROPFIND", "", None),
        ),
        recorded(
            "a 40-letter method is cut to 32",
            format!("{} /api/wait-until {h}", "Q".repeat(40)),
            stored(&"Q".repeat(MAX_METHOD_CHARS), "", None),
        ),
        recorded(
            "a lower-case method",
            format!("get /api/wait-until {h}"),
            stored("get", "", None),
        ),
        recorded(
            "a method of punctuation",
            format!("!#$%&'*+-.^_`|~ /api/wait-until {h}"),
            stored("!#$%&'*+-.^_`|~", "", None),
        ),
        answered(
            "a method with a character HTTP forbids",
            format!("G(T /api/wait-until {h}"),
            400,
        ),
        answered(
            "HEAD on wait-until",
            format!("HEAD /api/wait-until {h}"),
            200,
        ),
        answered(
            "CONNECT to an authority",
            format!("CONNECT 127.0.0.1:9 {h}"),
            404,
        ),
        answered("OPTIONS on recent", format!("OPTIONS /api/recent {h}"), 405),
        answered("TRACE on recent", format!("TRACE /api/recent {h}"), 405),
        answered("DELETE on the page", format!("DELETE / {h}"), 405),
        // Bodies and framing.
        verbatim(
            "POST with a body",
            format!(
                "POST /api/wait-until {h}\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"
            ),
            stored("POST", "", None),
        ),
        verbatim(
            "content-length and transfer-encoding together",
            format!(
                "POST /api/wait-until {h}\r\ncontent-length: 4\r\ntransfer-encoding: chunked\
                 \r\nconnection: close\r\n\r\n0\r\n\r\n"
            ),
            stored("POST", "", None),
        ),
        verbatim(
            "two different content-lengths",
            format!(
                "POST /api/wait-until {h}\r\ncontent-length: 4\r\ncontent-length: 5\
                 \r\nconnection: close\r\n\r\nabcd"
            ),
            Expect::Status(400),
        ),
        verbatim(
            "a broken chunked body",
            format!(
                "POST /api/wait-until {h}\r\ntransfer-encoding: chunked\r\nconnection: close\
                 \r\n\r\nzz\r\n"
            ),
            stored("POST", "", None),
        ),
        fire(
            "a websocket upgrade",
            "\r\nupgrade: websocket\r\nconnection: upgrade",
            stored("GET", "", None),
        ),
        answered(
            "two hundred headers",
            format!(
                "GET /api/wait-until {h}{}",
                (0..200)
                    .map(|i| format!("\r\nx-h{i}: v"))
                    .collect::<String>()
            ),
            431,
        ),
        verbatim(
            "bare LF line endings",
            "GET /api/wait-until HTTP/1.1\nhost: x\nuser-agent: lf\nconnection: close\n\n",
            stored("GET", "lf", None),
        ),
        verbatim(
            "HTTP/1.0 without a host",
            "GET /api/recent HTTP/1.0\r\n\r\n",
            Expect::Status(200),
        ),
        answered(
            "an unknown HTTP version",
            "GET /api/recent HTTP/9.9\r\nhost: x",
            400,
        ),
        answered(
            "a request line without a version",
            "GET /api/recent\r\nhost: x",
            400,
        ),
        verbatim(
            "a TLS handshake on the plain port",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\r\n\r\n",
            Expect::Status(400),
        ),
        // Paths.
        answered("dot-dot", format!("GET /api/../api/recent {h}"), 404),
        answered(
            "encoded dot-dot",
            format!("GET /api/%2e%2E/recent {h}"),
            404,
        ),
        answered("dot-dot at the end", format!("GET /api/recent/.. {h}"), 404),
        answered("single dot", format!("GET /api/./recent {h}"), 404),
        answered("double slashes", format!("GET //api//recent {h}"), 404),
        answered(
            "two trailing slashes",
            format!("GET /api/recent// {h}"),
            404,
        ),
        answered("one trailing slash", format!("GET /api/recent/ {h}"), 200),
        answered("encoded NUL", format!("GET /api/recent%00 {h}"), 404),
        answered("invalid UTF-8 escape", format!("GET /api/%ff%fe {h}"), 404),
        answered(
            "overlong UTF-8 slash escape",
            format!("GET /api%c0%afrecent {h}"),
            404,
        ),
        answered("truncated escape", format!("GET /api/recent% {h}"), 404),
        answered("encoded slash", format!("GET /api%2Frecent {h}"), 404),
        answered("backslash", format!("GET /api\\recent {h}"), 404),
        answered("raw UTF-8 in the path", format!("GET /api/récent {h}"), 404),
        recorded(
            "encoded letters of a route name",
            format!("GET /api/wait%2Duntil {h}"),
            stored("GET", "", None),
        ),
        answered(
            "8 KiB path",
            format!("GET /api/{} {h}", "a".repeat(8 * 1024)),
            404,
        ),
        answered(
            "60 KiB path of segments",
            format!("GET /api{} {h}", "/a".repeat(30 * 1024)),
            404,
        ),
        answered(
            "100 KiB path (too long for the HTTP parser)",
            format!("GET /api/{} {h}", "a".repeat(100 * 1024)),
            414,
        ),
        answered(
            "a fragment in the target",
            format!("GET /api/recent#x {h}"),
            200,
        ),
        answered(
            "raw markup in the query (refused by the HTTP parser)",
            format!("GET /api/recent?q=<script> {h}"),
            400,
        ),
        recorded(
            "encoded markup and NUL in the query",
            format!("GET /api/wait-until?q=%3Cscript%3E&x=%00 {h}"),
            stored("GET", "", None),
        ),
        answered(
            "a 20 KiB query",
            format!("GET /api/recent?{} {h}", "a=1&".repeat(5 * 1024)),
            200,
        ),
        answered(
            "absolute-form target",
            format!("GET http://evil.example/api/recent {h}"),
            200,
        ),
        answered("asterisk target", format!("GET * {h}"), 404),
    ]
}

#[tokio::test]
async fn every_hostile_request_gets_a_clean_answer_and_stores_only_sanitised_fields() {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::start(&env).await;

    let cases = cases();
    assert!(cases.len() >= 30, "the table shrank to {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = run(&app, &fake, case).await {
            failures.push(format!("{}: {why}", case.name));
        }
    }

    // Whatever any case stored (HEAD and CONNECT too) obeys the rules.
    let sent = sent_records(&fake);
    for (_, raw) in &sent {
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
        "{} failures in {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    println!("{} cases, {} records stored", cases.len(), sent.len());
}

async fn run(app: &App, fake: &FakeUpstash, case: &Case) -> Result<(), String> {
    let (status, body) = send(app.port, &case.request).await?;
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

/// Sends `request` and returns the status and body of the answer; `Err` for anything that is
/// not a clean HTTP answer within 10 s.
async fn send(port: u16, request: &[u8]) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut reader, mut writer) = stream.split();
    let mut answer = Vec::new();
    // Read while writing: for an oversized request the server answers (414, 431) and closes
    // before it has read everything, and that answer must not wait behind our own write.
    // A write cut short is fine as long as an answer came.
    let write = async {
        let _ = writer.write_all(request).await;
    };
    let read = async {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) => return None,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(error) => return Some(error),
            }
        }
    };
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(write, read).1
    })
    .await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok());
    let Some(status) = status else {
        return Err(match ended {
            Err(_) => format!("no answer within 10 s (got {answer:?})"),
            Ok(Some(error)) => format!("connection dropped without an answer: {error}"),
            Ok(None) => format!("connection closed without an HTTP answer: {answer:?}"),
        });
    };
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Every record sent to storage, as `(id, raw JSON)`, in order.
fn sent_records(fake: &FakeUpstash) -> Vec<(String, String)> {
    fake.seen()
        .iter()
        .filter(|s| s.path == "/pipeline" && s.body[0][0] == "LPUSH")
        .flat_map(|s| {
            let args = s.body[0].as_array().cloned().unwrap_or_default();
            args.into_iter().skip(2)
        })
        .map(|raw| {
            let raw = raw.as_str().map_or_else(|| raw.to_string(), str::to_string);
            let id = serde_json::from_str::<Value>(&raw)
                .ok()
                .and_then(|r| r["id"].as_str().map(str::to_string))
                .unwrap_or_default();
            (id, raw)
        })
        .collect()
}

/// The record with `id` as sent to storage, once the app has printed that it is stored.
async fn settled_record(app: &App, fake: &FakeUpstash, id: &str) -> Result<String, String> {
    let success = format!("[wait-until] stored {id} ");
    for _ in 0..250 {
        if app.stdout().iter().any(|line| line.starts_with(&success)) {
            return sent_records(fake)
                .into_iter()
                .find(|(sent, _)| sent == id)
                .map(|(_, raw)| raw)
                .ok_or_else(|| "stored, yet never sent to storage".to_string());
        }
        if let Some(line) = app.stderr().iter().find(|line| line.contains(id)) {
            return Err(format!("not stored: {line}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err("no success line within 5 s".to_string())
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
        if value.chars().count() > max || value.chars().any(char::is_control) {
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
