//! The security headers: every kind of answer carries the ones every answer carries, and the
//! page (served here by the app, on Vercel by `vercel.json`) its policy on top. The values are
//! the list in `src/security.rs`; nosniff is also spelled out, so a list emptied by mistake
//! still fails here. The answers come from the app in this process; the one a client library
//! would refuse to send, from the real binary.

use crate::MAIN;
use crate::in_process::{Answer, App};
use testkit::raw_http::closed;
use testkit::{TEST_LIMIT, within};
use wait_until::security::{EVERY_RESPONSE, PAGE_ONLY, page_headers};

/// `(what, status, headers)` of an answer, headers as `(name, value)` text.
type Seen = (String, u16, Vec<(String, String)>);

async fn seen(app: &App, method: &str, path: &str) -> Seen {
    let Answer {
        status, headers, ..
    } = app.request(method, path, &[]).await;
    let headers = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    (format!("{method} {path}"), status, headers)
}

fn header<'a>((what, _, headers): &'a Seen, name: &str) -> Option<&'a str> {
    let mut found = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
    let first = found.next().map(|(_, v)| v.as_str());
    assert!(found.next().is_none(), "{what}: {name} sent twice");
    first
}

fn assert_every_response_headers(answer: &Seen) {
    assert_eq!(
        header(answer, "x-content-type-options"),
        Some("nosniff"),
        "{}",
        answer.0
    );
    for (name, value) in EVERY_RESPONSE {
        assert_eq!(
            header(answer, name.as_str()),
            value.to_str().ok(),
            "{}: {name}",
            answer.0
        );
    }
}

#[tokio::test]
async fn every_answer_carries_nosniff_and_the_referrer_policy() {
    within(TEST_LIMIT, "every kind of answer", async {
        let app = App::new(&[]);
        let answers = [
            (seen(&app, "GET", "/").await, 200),
            (seen(&app, "HEAD", "/").await, 200),
            (seen(&app, "GET", "/api/wait-until").await, 200),
            (seen(&app, "POST", "/api/wait-until").await, 200),
            (seen(&app, "GET", "/api/wait-until?await=1").await, 200),
            (seen(&app, "GET", "/api/wait-until?await=x").await, 400),
            (seen(&app, "GET", "/api/source").await, 200),
            (seen(&app, "POST", "/api/source").await, 405),
            (seen(&app, "GET", "/api/recent").await, 200),
            (seen(&app, "HEAD", "/api/recent").await, 200),
            (seen(&app, "GET", "/api/nope").await, 404),
            (seen(&app, "GET", "/nope").await, 404),
            (seen(&app, "POST", "/api/recent").await, 405),
            (seen(&app, "DELETE", "/").await, 405),
        ];
        for (answer, status) in &answers {
            assert_eq!(answer.1, *status, "{}", answer.0);
            assert_every_response_headers(answer);
        }
    })
    .await;
}

#[tokio::test]
async fn the_404_of_a_path_trick_carries_them_too() {
    within(TEST_LIMIT, "the 404 of a path trick", async {
        // What a client library would refuse to send, so the real binary over raw HTTP.
        let app = testkit::app::App::start(MAIN, &[]).await;
        let raw = app
            .send_raw(closed("GET /api/../api/recent HTTP/1.1\r\nhost: x"))
            .await
            .expect("an answer");
        let raw = ("GET /api/../api/recent".to_owned(), raw.status, raw.headers);
        assert_eq!(raw.1, 404);
        assert_every_response_headers(&raw);
    })
    .await;
}

#[tokio::test]
async fn storage_errors_carry_them_too() {
    within(TEST_LIMIT, "the 503s of storage", async {
        // Upstash forced with nothing set: reads and awaited writes answer 503.
        let app = App::new(&[("WAIT_UNTIL_STORE", "upstash")]);
        for path in ["/api/recent", "/api/wait-until?await=1"] {
            let answer = seen(&app, "GET", path).await;
            assert_eq!(answer.1, 503, "{path}");
            assert_every_response_headers(&answer);
        }
    })
    .await;
}

#[tokio::test]
async fn the_page_carries_its_policy_and_the_api_answers_do_not() {
    within(TEST_LIMIT, "the page and the API answers", async {
        let app = App::new(&[]);
        for path in ["/", "/index.html"] {
            let page = seen(&app, "GET", path).await;
            assert_eq!(page.1, 200, "{path}");
            for (name, value) in page_headers() {
                assert_eq!(
                    header(&page, name.as_str()),
                    value.to_str().ok(),
                    "{path}: {name}"
                );
            }
            let policy = header(&page, "content-security-policy").unwrap_or_default();
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            assert!(policy.contains("script-src 'sha256-"), "{policy}");
        }
        // A policy for a document means nothing on JSON; the page's is not sent with it.
        for path in ["/api/wait-until", "/api/recent", "/api/source", "/api/nope"] {
            let answer = seen(&app, "GET", path).await;
            for (name, _) in PAGE_ONLY {
                assert_eq!(header(&answer, name.as_str()), None, "{path}: {name}");
            }
        }
    })
    .await;
}
