//! Bodies, framing and protocol versions: whatever the body or its framing, `/api/wait-until`
//! records the request; ambiguous framing, unknown versions and what is not HTTP at all are
//! refused by the HTTP parser with a clean 400.

use super::{Expect, H, attack, fire, refused, stored, verbatim};
use testkit::{TEST_LIMIT, within};

#[tokio::test]
async fn bodies_and_framing_never_break_an_answer() {
    within(TEST_LIMIT, "every framing case checked", async {
        attack(
            "framing",
            vec![
                verbatim(
                    "POST with a body",
                    format!(
                        "POST /api/wait-until {H}\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"
                    ),
                    stored("POST", "", None),
                ),
                verbatim(
                    "content-length and transfer-encoding together",
                    format!(
                        "POST /api/wait-until {H}\r\ncontent-length: 4\r\ntransfer-encoding: chunked\
                         \r\nconnection: close\r\n\r\n0\r\n\r\n"
                    ),
                    stored("POST", "", None),
                ),
                verbatim(
                    "two different content-lengths (refused by the HTTP parser)",
                    format!(
                        "POST /api/wait-until {H}\r\ncontent-length: 4\r\ncontent-length: 5\
                         \r\nconnection: close\r\n\r\nabcd"
                    ),
                    Expect::Status(400),
                ),
                verbatim(
                    "a broken chunked body",
                    format!(
                        "POST /api/wait-until {H}\r\ntransfer-encoding: chunked\r\nconnection: close\
                         \r\n\r\nzz\r\n"
                    ),
                    stored("POST", "", None),
                ),
                fire(
                    "a websocket upgrade",
                    "\r\nupgrade: websocket\r\nconnection: upgrade",
                    stored("GET", "", None),
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
                refused(
                    "an unknown HTTP version",
                    "GET /api/recent HTTP/9.9\r\nhost: x",
                    400,
                ),
                refused(
                    "a request line without a version",
                    "GET /api/recent\r\nhost: x",
                    400,
                ),
                verbatim(
                    "a TLS handshake on the plain port (refused by the HTTP parser)",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\r\n\r\n",
                    Expect::Status(400),
                ),
            ],
        )
        .await;
    })
    .await;
}
