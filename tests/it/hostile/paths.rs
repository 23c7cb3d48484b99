//! Paths and encodings that pass `bundled`'s path check and reach the route table or our
//! fallback: encoded bytes and letters, slashes of the wrong kind, raw UTF-8, fragments, odd
//! targets and queries. Those the path check refuses are its unit tests' (see `mod.rs`).

use super::{H, answered, attack, recorded, refused, stored};
use testkit::{TEST_LIMIT, within};

#[tokio::test]
async fn odd_paths_and_encodings_reach_the_right_answer() {
    within(TEST_LIMIT, "every paths case checked", async {
        attack(
            "paths",
            vec![
                answered("one trailing slash", format!("GET /api/recent/ {H}"), 200),
                answered("encoded NUL", format!("GET /api/recent%00 {H}"), 404),
                answered("encoded slash", format!("GET /api%2Frecent {H}"), 404),
                answered("backslash", format!("GET /api\\recent {H}"), 404),
                answered("raw UTF-8 in the path", format!("GET /api/récent {H}"), 404),
                recorded(
                    "encoded letters of a route name",
                    format!("GET /api/wait%2Duntil {H}"),
                    stored("GET", "", None),
                ),
                answered(
                    "a fragment in the target",
                    format!("GET /api/recent#x {H}"),
                    200,
                ),
                refused(
                    "raw markup in the query",
                    format!("GET /api/recent?q=<script> {H}"),
                    400,
                ),
                recorded(
                    "encoded markup and NUL in the query",
                    format!("GET /api/wait-until?q=%3Cscript%3E&x=%00 {H}"),
                    stored("GET", "", None),
                ),
                answered(
                    "absolute-form target",
                    format!("GET http://evil.example/api/recent {H}"),
                    200,
                ),
            ],
        )
        .await;
    })
    .await;
}
