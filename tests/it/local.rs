//! The app with the embedded memory store: what `cargo run` gives a user with no account and no
//! network. Its answers come from the app in this process; what only the real binary driven
//! over HTTP shows (the peer's address, HEAD's empty body, routing, raw paths) from `main`.

use crate::MAIN;
use crate::in_process;
use std::time::Duration;
use testkit::app::{App, json};
use testkit::raw_http::closed;
use testkit::{TEST_LIMIT, eventually, within};

#[tokio::test]
async fn start_up_names_the_store_and_why() {
    within(TEST_LIMIT, "start-up naming the store", async {
        let app = in_process::App::new(&[]);
        app.assert_printed("storage: memory (no Upstash settings");
    })
    .await;
}

#[tokio::test]
async fn wait_until_store_memory_wins_even_over_an_unusable_upstash_url() {
    within(TEST_LIMIT, "a record in the memory store", async {
        let app = in_process::App::new(&[
            ("KV_REST_API_URL", "redis://127.0.0.1:6379"),
            ("KV_REST_API_TOKEN", "token"),
            ("WAIT_UNTIL_STORE", "memory"),
        ]);
        let printed = app.printed();
        assert!(
            printed.contains(&"storage: memory (WAIT_UNTIL_STORE=memory)".to_string()),
            "{printed:?}"
        );
        let id = app.fire().await;
        eventually(Duration::from_secs(5), "the fire in recent", || async {
            app.recent_ids().await.contains(&id)
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_fire_answers_at_once_and_lands_in_recent() {
    within(TEST_LIMIT, "a fire listed in /api/recent", async {
        let app = in_process::App::new(&[]);
        let answer = app.get("/api/wait-until").await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        let receipt = answer.json();
        assert_eq!(receipt["recorded"], true);
        assert_eq!(receipt["storage"], "memory");
        let id = receipt["id"].as_str().unwrap().to_string();
        eventually(
            Duration::from_secs(5),
            "the record in /api/recent",
            || async { app.recent_ids().await.contains(&id) },
        )
        .await;
        let (_, body) = app.recent().await;
        assert_eq!(body["storage"], "memory");
        assert_eq!(body["skipped"], 0);
        let record = &body["requests"][0];
        assert_eq!(record["method"], "GET");
        assert!(record["timestamp"].as_u64().unwrap() > 1_700_000_000_000);
    })
    .await;
}

#[tokio::test]
async fn twelve_fires_keep_exactly_the_ten_newest_newest_first() {
    within(TEST_LIMIT, "twelve fires, ten listed", async {
        let app = in_process::App::new(&[]);
        let mut fired = Vec::new();
        for _ in 0..12 {
            fired.push(app.fire().await);
            // Each write lands before the next fire, so the order is the firing order.
            let last = fired.last().unwrap().clone();
            eventually(Duration::from_secs(5), "the record", || async {
                app.recent_ids().await.first() == Some(&last)
            })
            .await;
        }
        let expected: Vec<String> = fired.iter().rev().take(10).cloned().collect();
        assert_eq!(app.recent_ids().await, expected);
    })
    .await;
}

#[tokio::test]
async fn the_country_header_becomes_a_country_and_its_flag() {
    within(TEST_LIMIT, "records with country and flag", async {
        let app = in_process::App::new(&[]);
        let id = app.fire_with(&[("x-vercel-ip-country", "jp")]).await;
        let unknown = app.fire_with(&[("x-vercel-ip-country", "JPN")]).await;
        eventually(Duration::from_secs(5), "both records", || async {
            app.recent_ids().await.len() == 2
        })
        .await;
        let (_, body) = app.recent().await;
        let find = |id: &str| {
            body["requests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .unwrap()
                .clone()
        };
        assert_eq!(find(&id)["country"], "JP");
        assert_eq!(find(&id)["flag"], "🇯🇵");
        assert!(find(&unknown).get("country").is_none());
        assert!(find(&unknown).get("flag").is_none());
    })
    .await;
}

#[tokio::test]
async fn no_ip_address_is_ever_stored() {
    within(TEST_LIMIT, "records fired with IP headers", async {
        let app = App::start(MAIN, &[]).await;
        let ip = "203.0.113.77";
        app.fire_with(&[
            ("x-forwarded-for", ip),
            ("x-real-ip", ip),
            ("x-vercel-forwarded-for", ip),
            ("x-vercel-proxied-for", ip),
            ("forwarded", &format!("for={ip}")),
            ("user-agent", "tester"),
        ])
        .await;
        eventually(Duration::from_secs(5), "the record", || async {
            app.recent_ids().await.len() == 1
        })
        .await;
        let body = app.get("/api/recent").await.text().await.unwrap();
        assert!(body.contains("tester"));
        assert!(!body.contains(ip), "{body}");
        assert!(!body.contains("127.0.0.1"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn wait_until_accepts_any_method_and_records_it() {
    within(TEST_LIMIT, "a record per method", async {
        let app = in_process::App::new(&[]);
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let answer = app.request(method, "/api/wait-until", &[]).await;
            assert_eq!(answer.status, 200, "{method}");
        }
        eventually(Duration::from_secs(5), "four records", || async {
            app.recent_ids().await.len() == 4
        })
        .await;
        let (_, body) = app.recent().await;
        let mut methods: Vec<_> = body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["method"].as_str().unwrap().to_string())
            .collect();
        methods.sort();
        assert_eq!(methods, ["DELETE", "PATCH", "POST", "PUT"]);
    })
    .await;
}

#[tokio::test]
async fn recent_answers_get_and_head_and_refuses_other_methods_with_allow() {
    within(TEST_LIMIT, "/api/recent to each method", async {
        let app = App::start(MAIN, &[]).await;
        let head = app.request("HEAD", "/api/recent").await;
        assert_eq!(head.status(), 200);
        assert!(head.bytes().await.unwrap().is_empty());
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let response = app.request(method, "/api/recent").await;
            assert_eq!(response.status(), 405, "{method}");
            assert_eq!(response.headers()["allow"], "GET, HEAD");
            assert_eq!(json(response).await["error"], "method not allowed");
        }
    })
    .await;
}

#[tokio::test]
async fn unknown_paths_are_a_json_404() {
    within(TEST_LIMIT, "the 404s of unknown paths", async {
        let app = App::start(MAIN, &[]).await;
        for path in [
            "/api/nope",
            "/api",
            "/api/recent/extra",
            "/nope",
            "/api/wait-until/x",
        ] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 404, "{path}");
            // Like every answer: a route added by the next deployment must not hide behind a cache.
            assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
            assert_eq!(
                json(response).await,
                serde_json::json!({"error": "not found"}),
                "{path}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn path_tricks_never_reach_a_route() {
    within(TEST_LIMIT, "the answers to path tricks", async {
        let app = App::start(MAIN, &[]).await;
        for path in [
            "/api/../api/recent",
            "/api//recent",
            "/api/%2e%2e/recent",
            "/api/recent%",
            "//api/recent",
            "/api/./recent",
        ] {
            let answer = app
                .send_raw(closed(format!("GET {path} HTTP/1.1\r\nhost: x")))
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(answer.status, 404, "{path}: {}", answer.body);
            assert_eq!(answer.header("cache-control"), Some("no-store"), "{path}");
        }
        // Encoded text and a trailing slash still name the route.
        let answer = app
            .send_raw(closed("GET /api/recen%74/ HTTP/1.1\r\nhost: x"))
            .await
            .expect("an answer");
        assert_eq!(answer.status, 200);
    })
    .await;
}

#[tokio::test]
async fn the_page_is_served_at_the_root() {
    within(TEST_LIMIT, "the page at /", async {
        let app = in_process::App::new(&[]);
        let answer = app.get("/").await;
        assert_eq!(answer.status, 200);
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let page = answer.text();
        for button in [r#"id="fire""#, r#"id="fire-awaited""#] {
            assert!(page.contains(button), "no {button} in {page}");
        }
        let answer = app.request("POST", "/", &[]).await;
        assert_eq!(answer.status, 405);
    })
    .await;
}
