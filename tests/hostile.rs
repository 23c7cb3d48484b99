//! The function attacked the way the internet will: raw requests (so nothing is normalised by a
//! client library) against the real binary. Every case must get a clean HTTP answer (never a
//! 5xx, never a dropped connection), and whatever it stored must be sanitised and hold no IP.

mod support;

use support::app::App;
use support::raw_http;

const IP: &str = "198.51.100.23";

/// What a case expects besides a clean answer.
#[derive(Clone, Copy)]
enum Expect {
    /// This status.
    Status(u16),
    /// `200` from `/api/wait-until`, and the stored record's country is this (or absent).
    Stored(Option<&'static str>),
}

struct Case {
    name: &'static str,
    head: Vec<u8>,
    expect: Expect,
}

fn fire(name: &'static str, headers: impl AsRef<[u8]>, expect: Option<&'static str>) -> Case {
    let mut head = b"GET /api/wait-until HTTP/1.1\r\nhost: x".to_vec();
    head.extend_from_slice(headers.as_ref());
    Case {
        name,
        head,
        expect: Expect::Stored(expect),
    }
}

fn raw(name: &'static str, head: impl Into<String>, status: u16) -> Case {
    Case {
        name,
        head: head.into().into_bytes(),
        expect: Expect::Status(status),
    }
}

fn cases() -> Vec<Case> {
    let long_ua = "A".repeat(20_000);
    let wide_ua = "é".repeat(700);
    vec![
        // User agents.
        fire(
            "oversized user agent",
            format!("\r\nuser-agent: {long_ua}"),
            None,
        ),
        fire(
            "oversized multi-byte user agent",
            format!("\r\nuser-agent: {wide_ua}"),
            None,
        ),
        fire(
            "non-UTF-8 user agent",
            b"\r\nuser-agent: a\xff\xfe\xc3b",
            None,
        ),
        fire(
            "overlong UTF-8 in the user agent",
            b"\r\nuser-agent: \xc0\xaf\xe0\x80\xaf",
            None,
        ),
        raw(
            "NUL in a header (refused by the HTTP parser)",
            "GET /api/wait-until HTTP/1.1\r\nhost: x\r\nuser-agent: a\u{0}b",
            400,
        ),
        raw(
            "control character in a header",
            "GET /api/wait-until HTTP/1.1\r\nhost: x\r\nuser-agent: a\u{1b}[31mred",
            400,
        ),
        fire("tab in the user agent", "\r\nuser-agent: a\tb", None),
        fire(
            "script injection",
            "\r\nuser-agent: <script>alert(1)</script>",
            None,
        ),
        fire(
            "markup injection",
            "\r\nuser-agent: <img src=x onerror=alert(1)>",
            None,
        ),
        fire(
            "JSON injection",
            "\r\nuser-agent: \",\"country\":\"ZZ\",\"x\":\"",
            None,
        ),
        fire(
            "unicode line separator",
            "\r\nuser-agent: a\u{2028}b\u{2029}c",
            None,
        ),
        fire(
            "right-to-left override",
            "\r\nuser-agent: abc\u{202E}fed",
            None,
        ),
        fire("empty user agent", "\r\nuser-agent: ", None),
        fire(
            "two user agents",
            "\r\nuser-agent: one\r\nuser-agent: two",
            None,
        ),
        // Countries.
        fire(
            "lower-case country",
            "\r\nx-vercel-ip-country: fr",
            Some("FR"),
        ),
        fire("three-letter country", "\r\nx-vercel-ip-country: FRA", None),
        fire("one-letter country", "\r\nx-vercel-ip-country: F", None),
        fire("digits as a country", "\r\nx-vercel-ip-country: 12", None),
        fire(
            "non-ASCII country",
            "\r\nx-vercel-ip-country: \u{c9}S",
            None,
        ),
        fire("Latin-1 country", b"\r\nx-vercel-ip-country: \xc9S", None),
        fire(
            "repeated country",
            "\r\nx-vercel-ip-country: FR\r\nx-vercel-ip-country: DE",
            None,
        ),
        fire("empty country", "\r\nx-vercel-ip-country: ", None),
        fire("country with markup", "\r\nx-vercel-ip-country: <b>", None),
        // Every IP header we know of.
        fire(
            "x-forwarded-for",
            format!("\r\nx-forwarded-for: {IP}, 10.0.0.1"),
            None,
        ),
        fire("x-real-ip", format!("\r\nx-real-ip: {IP}"), None),
        fire(
            "x-vercel-forwarded-for",
            format!("\r\nx-vercel-forwarded-for: {IP}"),
            None,
        ),
        fire(
            "x-vercel-proxied-for",
            format!("\r\nx-vercel-proxied-for: {IP}"),
            None,
        ),
        fire(
            "forwarded",
            format!("\r\nforwarded: for={IP};proto=https"),
            None,
        ),
        fire(
            "cf-connecting-ip and true-client-ip",
            format!("\r\ncf-connecting-ip: {IP}\r\ntrue-client-ip: {IP}"),
            None,
        ),
        fire(
            "ip in the user agent header name's neighbour",
            format!("\r\nx-client-ip: {IP}\r\nx-cluster-client-ip: {IP}"),
            None,
        ),
        // Methods.
        raw(
            "PROPFIND on wait-until",
            "PROPFIND /api/wait-until HTTP/1.1\r\nhost: x",
            200,
        ),
        raw(
            "a 40-letter method",
            format!("{} /api/wait-until HTTP/1.1\r\nhost: x", "Q".repeat(40)),
            200,
        ),
        raw(
            "OPTIONS on recent",
            "OPTIONS /api/recent HTTP/1.1\r\nhost: x",
            405,
        ),
        raw(
            "TRACE on recent",
            "TRACE /api/recent HTTP/1.1\r\nhost: x",
            405,
        ),
        raw("DELETE on the page", "DELETE / HTTP/1.1\r\nhost: x", 405),
        // Paths.
        raw("dot-dot", "GET /api/../api/recent HTTP/1.1\r\nhost: x", 404),
        raw(
            "encoded dot-dot",
            "GET /api/%2e%2E/recent HTTP/1.1\r\nhost: x",
            404,
        ),
        raw("double slash", "GET //api//recent HTTP/1.1\r\nhost: x", 404),
        raw("encoded NUL", "GET /api/recent%00 HTTP/1.1\r\nhost: x", 404),
        raw(
            "invalid UTF-8 escape",
            "GET /api/%ff%fe HTTP/1.1\r\nhost: x",
            404,
        ),
        raw(
            "truncated escape",
            "GET /api/recent% HTTP/1.1\r\nhost: x",
            404,
        ),
        raw(
            "encoded slash",
            "GET /api%2Frecent HTTP/1.1\r\nhost: x",
            404,
        ),
        raw(
            "8 KiB path",
            format!("GET /api/{} HTTP/1.1\r\nhost: x", "a".repeat(8 * 1024)),
            404,
        ),
        raw(
            "60 KiB path of segments",
            format!("GET /api{} HTTP/1.1\r\nhost: x", "/a".repeat(30 * 1024)),
            404,
        ),
        raw(
            "raw markup in the query (refused by the HTTP parser)",
            "GET /api/recent?q=<script> HTTP/1.1\r\nhost: x",
            400,
        ),
        raw(
            "encoded markup and NUL in the query",
            "GET /api/recent?q=%3Cscript%3E&x=%00 HTTP/1.1\r\nhost: x",
            200,
        ),
        raw(
            "absolute-form target",
            "GET http://evil.example/api/recent HTTP/1.1\r\nhost: x",
            200,
        ),
        raw("asterisk target", "GET * HTTP/1.1\r\nhost: x", 404),
    ]
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn every_hostile_request_gets_a_clean_answer_and_stores_only_sanitised_fields() {
    let app = App::start(&[]).await;
    let cases = cases();
    assert!(cases.len() >= 40, "the table shrank to {}", cases.len());
    for case in cases {
        let (status, body) = raw_http::request(app.port, &case.head).await;
        assert!(status < 500, "{}: answered {status} {body}", case.name);
        match case.expect {
            Expect::Status(expected) => assert_eq!(status, expected, "{}: {body}", case.name),
            Expect::Stored(country) => {
                assert_eq!(status, 200, "{}: {body}", case.name);
                let id = json(&body)["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| panic!("{}: no id in {body}", case.name));
                let record = stored(&app, &id).await;
                let ua = record["userAgent"].as_str().unwrap();
                assert!(
                    ua.chars().count() <= 512,
                    "{}: {} chars",
                    case.name,
                    ua.chars().count()
                );
                assert!(!ua.chars().any(char::is_control), "{}: {ua:?}", case.name);
                assert_eq!(record["country"].as_str(), country, "{}", case.name);
                assert_eq!(
                    record.get("flag").is_some(),
                    country.is_some(),
                    "{}",
                    case.name
                );
                let text = record.to_string();
                assert!(
                    !text.contains(IP) && !text.contains("10.0.0.1"),
                    "{}: {text}",
                    case.name
                );
                let keys: Vec<&String> = record.as_object().unwrap().keys().collect();
                assert!(
                    keys.iter().all(|k| [
                        "id",
                        "timestamp",
                        "method",
                        "userAgent",
                        "country",
                        "flag"
                    ]
                    .contains(&k.as_str())),
                    "{}: {keys:?}",
                    case.name
                );
            }
        }
    }
    // The app is still healthy after all of it.
    assert_eq!(app.get("/api/recent").await.status(), 200);
}

/// The record with `id`, once it is stored.
async fn stored(app: &App, id: &str) -> serde_json::Value {
    for _ in 0..250 {
        let (_, body) = app.recent().await;
        if let Some(record) = body["requests"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["id"] == id))
        {
            return record.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("record {id} was never stored");
}

#[tokio::test]
async fn a_method_longer_than_32_characters_is_cut_when_stored() {
    let app = App::start(&[]).await;
    let (status, body) = raw_http::request(
        app.port,
        &format!("{} /api/wait-until HTTP/1.1\r\nhost: x", "Q".repeat(40)),
    )
    .await;
    assert_eq!(status, 200);
    let record = stored(&app, json(&body)["id"].as_str().unwrap()).await;
    assert_eq!(record["method"], "Q".repeat(32));
}
