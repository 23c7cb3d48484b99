//! User agents that are not UTF-8, carry control characters, reorder or hide text with bidi
//! controls and invisible format characters, or try to inject markup or JSON: stored as plain
//! text, control and format characters removed, invalid bytes replaced. Then another writer's
//! record planted in storage with a bidi override: skipped and counted, never handed out.

use super::{H, attack, fire, refused, stored, user_agent};
use serde_json::json;
use testkit::redis::RECENT;
use testkit::{TEST_LIMIT, within};
use wait_until::record::RequestRecord;
use wait_until::store::KEEP;

/// `text` in tag characters (U+E0020–U+E007F): ASCII that renders as nothing.
fn tags(text: &str) -> String {
    text.chars()
        .filter_map(|c| char::from_u32(0xE0000 + u32::from(c)))
        .collect()
}

#[tokio::test]
async fn hostile_user_agents_are_stored_as_clean_text() {
    within(TEST_LIMIT, "user agents checked, plants skipped", async {
        let (redis, _fake, app) = attack(
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
                // Format characters (Unicode category Cf), each class: removed, what they hid or
                // reversed left as a reader sees it.
                user_agent("right-to-left override", "abc\u{202E}fed", "abcfed"),
                user_agent(
                    "bidi embeddings and overrides (LRE, RLE, PDF, LRO)",
                    "Chrome\u{202A}1\u{202B}2\u{202C}3\u{202D}4",
                    "Chrome1234",
                ),
                user_agent(
                    "bidi isolates (LRI, RLI, FSI, PDI)",
                    "a\u{2066}b\u{2067}c\u{2068}d\u{2069}e",
                    "abcde",
                ),
                user_agent(
                    "bidi marks (LRM, RLM, ALM)",
                    "a\u{200E}b\u{200F}c\u{61C}d",
                    "abcd",
                ),
                user_agent(
                    "zero-width space, non-joiner, joiner and word joiner",
                    "pay\u{200B}p\u{200C}a\u{200D}l\u{2060}",
                    "paypal",
                ),
                user_agent(
                    "other invisible format characters",
                    "a\u{AD}b\u{180E}c\u{2061}\u{2062}\u{2063}\u{2064}d\u{FFF9}e\u{FFFB}\u{206F}f",
                    "abcdef",
                ),
                user_agent(
                    "byte order marks",
                    "\u{FEFF}Mozilla\u{FEFF}/5.0",
                    "Mozilla/5.0",
                ),
                user_agent(
                    "tag characters spelling hidden text",
                    format!("Mozilla\u{E0001}{}", tags("ignore all rules")),
                    "Mozilla",
                ),
                user_agent(
                    "invisible padding does not count towards the bound",
                    "a\u{200B}".repeat(600),
                    "a".repeat(512),
                ),
                user_agent(
                    "ordinary non-ASCII text (accents, CJK, RTL letters, a flag, emoji) is kept",
                    "Mozilla/5.0 (café; e\u{301}; 日本語; עברית; 🇫🇷; 👍🏽; ❤\u{FE0F})",
                    "Mozilla/5.0 (café; e\u{301}; 日本語; עברית; 🇫🇷; 👍🏽; ❤\u{FE0F})",
                ),
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

        // Another writer's records in the same storage, one raw and one in JSON escapes, each well
        // formed (v7 ids and all) but for a bidi character: skipped and counted, the rest listed
        // as before.
        let (status, before) = app.recent().await;
        assert_eq!((status, &before["skipped"]), (200, &json!(0)), "{before}");
        let override_raw = json!({
            "id": "00000000-0001-7000-8000-00000000000a",
            "timestamp": 1,
            "method": "GET",
            "userAgent": "Mozilla/5.0 (abc\u{202E}fed)",
        })
        .to_string();
        let isolate_escaped =
            r#"{"id":"00000000-0002-7000-8000-00000000000b","timestamp":2,"method":"GET","userAgent":"a\u2067b\u2069"}"#;
        assert!(override_raw.contains('\u{202E}') && isolate_escaped.is_ascii());
        // Without the bidi character, each is a record the app would list.
        let plain = [
            override_raw.replace('\u{202E}', ""),
            isolate_escaped.replace(r"\u2067", "").replace(r"\u2069", ""),
        ];
        for plain in plain {
            assert!(RequestRecord::from_stored(&plain).is_some(), "{plain}");
        }
        // Scored above every record (a time some 285,000 years from now), so that they are read
        // first.
        let above_every_record = "9007199254740991";
        redis.cli(&[
            "ZADD",
            RECENT,
            above_every_record,
            &override_raw,
            above_every_record,
            isolate_escaped,
        ]);

        let (status, after) = app.recent().await;
        assert_eq!((status, &after["skipped"]), (200, &json!(2)), "{after}");
        let listed = after["requests"].as_array().cloned().unwrap_or_default();
        let earlier = before["requests"].as_array().cloned().unwrap_or_default();
        assert_eq!(earlier.len(), KEEP, "{before}");
        assert_eq!(listed, earlier[..KEEP - 2], "{after}");
    })
    .await;
}
