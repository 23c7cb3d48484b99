//! User agents that are not UTF-8, carry control characters or try to inject markup or JSON:
//! stored as plain text, control characters removed, invalid bytes replaced.

use super::{H, attack, fire, refused, stored, user_agent};

#[tokio::test]
async fn hostile_user_agents_are_stored_as_clean_text() {
    attack(
        "user_agents",
        vec![
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
            refused(
                "NUL in the user agent",
                format!("GET /api/wait-until {H}\r\nuser-agent: a\u{0}b"),
                400,
            ),
            refused(
                "escape sequence in the user agent",
                format!("GET /api/wait-until {H}\r\nuser-agent: a\u{1b}[31mred"),
                400,
            ),
            refused(
                "DEL in the user agent",
                format!("GET /api/wait-until {H}\r\nuser-agent: a\u{7f}b"),
                400,
            ),
            refused(
                "bare CR in the user agent",
                format!("GET /api/wait-until {H}\r\nuser-agent: a\rforged: 1"),
                400,
            ),
            refused(
                "folded header line",
                format!("GET /api/wait-until {H}\r\nuser-agent: a\r\n folded"),
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
        ],
    )
    .await;
}
