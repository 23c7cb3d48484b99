//! Methods: `/api/wait-until` records any method HTTP allows (cut to its bound), the other
//! routes and the page refuse what they do not serve, and `CONNECT` (which the server treats as
//! a tunnel on success) gets a plain 404.

use super::{H, answered, attack, recorded, refused, stored};
use testkit::{TEST_LIMIT, within};
use wait_until::record::MAX_METHOD_CHARS;

#[tokio::test]
async fn any_method_is_recorded_or_refused_cleanly() {
    within(TEST_LIMIT, "every methods case checked", async {
        attack(
            "methods",
            vec![
                recorded(
                    "PROPFIND on wait-until",
                    format!("PROPFIND /api/wait-until {H}"),
                    stored("PROPFIND", "", None),
                ),
                recorded(
                    "a 40-letter method is cut to 32",
                    format!("{} /api/wait-until {H}", "Q".repeat(40)),
                    stored(&"Q".repeat(MAX_METHOD_CHARS), "", None),
                ),
                recorded(
                    "a lower-case method",
                    format!("get /api/wait-until {H}"),
                    stored("get", "", None),
                ),
                recorded(
                    "a method of punctuation",
                    format!("!#$%&'*+-.^_`|~ /api/wait-until {H}"),
                    stored("!#$%&'*+-.^_`|~", "", None),
                ),
                refused(
                    "a method with a character HTTP forbids",
                    format!("G(T /api/wait-until {H}"),
                    400,
                ),
                answered(
                    "HEAD on wait-until",
                    format!("HEAD /api/wait-until {H}"),
                    200,
                ),
                answered(
                    "CONNECT to an authority",
                    format!("CONNECT 127.0.0.1:9 {H}"),
                    404,
                ),
                answered("OPTIONS on recent", format!("OPTIONS /api/recent {H}"), 405),
                answered("TRACE on recent", format!("TRACE /api/recent {H}"), 405),
                answered("DELETE on the page", format!("DELETE / {H}"), 405),
            ],
        )
        .await;
    })
    .await;
}
