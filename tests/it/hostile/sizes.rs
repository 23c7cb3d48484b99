//! Oversized input: user agents cut to their bound in characters (whatever their bytes), the
//! largest record still under the stored size bound, long paths and queries answered, heads
//! over the server's limits refused.

use super::{H, answered, attack, refused, user_agent};
use testkit::{TEST_LIMIT, within};
use wait_until::record::MAX_USER_AGENT_CHARS;

#[tokio::test]
async fn oversized_input_is_cut_or_refused_never_a_5xx() {
    within(TEST_LIMIT, "every sizes case checked", async {
        attack(
            "sizes",
            vec![
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
                refused(
                    "user agent over the server's header limit",
                    format!(
                        "GET /api/wait-until {H}\r\nuser-agent: {}",
                        "A".repeat(1 << 20)
                    ),
                    431,
                ),
                refused(
                    "two hundred headers",
                    format!(
                        "GET /api/wait-until {H}{}",
                        (0..200)
                            .map(|i| format!("\r\nx-h{i}: v"))
                            .collect::<String>()
                    ),
                    431,
                ),
                answered(
                    "8 KiB path",
                    format!("GET /api/{} {H}", "a".repeat(8 * 1024)),
                    404,
                ),
                answered(
                    "60 KiB path of segments",
                    format!("GET /api{} {H}", "/a".repeat(30 * 1024)),
                    404,
                ),
                refused(
                    "100 KiB path",
                    format!("GET /api/{} {H}", "a".repeat(100 * 1024)),
                    414,
                ),
                answered(
                    "a 20 KiB query",
                    format!("GET /api/recent?{} {H}", "a=1&".repeat(5 * 1024)),
                    200,
                ),
            ],
        )
        .await;
    })
    .await;
}
