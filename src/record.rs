//! The record of one request: what we store, and how hostile input becomes safe to store.
//!
//! Promises:
//! - Built only from the method, `user-agent` and `x-vercel-ip-country`. No IP and no IP
//!   header (`x-forwarded-for`, `x-real-ip`, `x-vercel-forwarded-for`, …) is ever read.
//! - `userAgent` is at most [`MAX_USER_AGENT_CHARS`] characters, non-UTF-8 bytes replaced with
//!   U+FFFD, control characters removed. `method` is at most [`MAX_METHOD_CHARS`].
//! - `country` is present only when there is exactly one `x-vercel-ip-country` header holding
//!   exactly two ASCII letters; it is upper-cased, and `flag` is its regional-indicator emoji.
//! - A stored record read back is checked against the same rules ([`RequestRecord::from_stored`]):
//!   whatever another writer put in storage, what we hand out obeys them.

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};
use vercel_runtime::Request;

pub const MAX_USER_AGENT_CHARS: usize = 512;
pub const MAX_METHOD_CHARS: usize = 32;
/// Longer stored entries are not records we wrote: skipped unread.
pub const MAX_STORED_BYTES: usize = 4096;
const MAX_ID_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestRecord {
    pub id: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    pub method: String,
    pub user_agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

impl RequestRecord {
    /// The record of `req`, with a fresh time-ordered id and the current time.
    pub fn of_request(req: &Request) -> Self {
        Self::from_parts(req.method().as_str(), req.headers())
    }

    pub fn from_parts(method: &str, headers: &http::HeaderMap) -> Self {
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .map(|value| sanitize_text(value.as_bytes(), MAX_USER_AGENT_CHARS))
            .unwrap_or_default();
        let country = single_header(headers, "x-vercel-ip-country").and_then(country_code);
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            timestamp: now_millis(),
            method: sanitize_text(method.as_bytes(), MAX_METHOD_CHARS),
            user_agent,
            flag: country.as_deref().map(country_to_flag),
            country,
        }
    }

    /// A stored entry, if it is a record that obeys our rules; `None` for anything else.
    pub fn from_stored(raw: &str) -> Option<Self> {
        if raw.len() > MAX_STORED_BYTES {
            return None;
        }
        let record: Self = serde_json::from_str(raw).ok()?;
        record.is_well_formed().then_some(record)
    }

    pub fn to_json(&self) -> String {
        // A struct of strings and integers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    fn is_well_formed(&self) -> bool {
        let text_ok = |text: &str, max: usize| {
            text.chars().count() <= max && !text.chars().any(char::is_control)
        };
        let country_ok = match (&self.country, &self.flag) {
            (None, None) => true,
            (Some(country), Some(flag)) => {
                country_code(country.as_bytes()).as_deref() == Some(country.as_str())
                    && *flag == country_to_flag(country)
            }
            _ => false,
        };
        !self.id.is_empty()
            && text_ok(&self.id, MAX_ID_CHARS)
            && !self.method.is_empty()
            && text_ok(&self.method, MAX_METHOD_CHARS)
            && text_ok(&self.user_agent, MAX_USER_AGENT_CHARS)
            && country_ok
    }
}

/// Lossy UTF-8, control characters removed, at most `max` characters.
pub fn sanitize_text(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// `Some("FR")` for `fr` or `FR`; `None` for anything that is not exactly two ASCII letters.
pub fn country_code(value: &[u8]) -> Option<String> {
    match value {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(
            [a.to_ascii_uppercase(), b.to_ascii_uppercase()]
                .iter()
                .map(|&byte| char::from(byte))
                .collect(),
        ),
        _ => None,
    }
}

/// `"FR"` -> 🇫🇷: each letter maps to its regional indicator symbol.
pub fn country_to_flag(code: &str) -> String {
    const REGIONAL_INDICATOR_A: u32 = 0x1F1E6;
    code.chars()
        .filter(char::is_ascii_uppercase)
        .filter_map(|c| char::from_u32(REGIONAL_INDICATOR_A + (c as u32 - 'A' as u32)))
        .collect()
}

/// The header's value when it is present exactly once; a repeated header is ambiguous.
fn single_header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a [u8]> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value.as_bytes()),
        _ => None,
    }
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

/// Records for the library's unit tests, which only need them distinct and ordered.
#[cfg(test)]
impl RequestRecord {
    /// Id `id-000n`, timestamp `n`, method `GET`, nothing else.
    pub(crate) fn numbered(n: u64) -> Self {
        Self {
            id: format!("id-{n:04}"),
            timestamp: n,
            method: "GET".into(),
            user_agent: String::new(),
            country: None,
            flag: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    fn record(headers: &[(&str, &[u8])]) -> RequestRecord {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        RequestRecord::from_parts("GET", &map)
    }

    #[test]
    fn a_country_header_gives_the_code_and_its_flag() {
        let r = record(&[("x-vercel-ip-country", b"fr")]);
        assert_eq!(r.country.as_deref(), Some("FR"));
        assert_eq!(r.flag.as_deref(), Some("🇫🇷"));
    }

    #[test]
    fn a_country_that_is_not_two_letters_is_dropped() {
        for bad in [&b"FRA"[..], b"F", b"", b"1A", b"F ", b"\xc3\xa9A"] {
            let r = record(&[("x-vercel-ip-country", bad)]);
            assert_eq!((r.country, r.flag), (None, None), "{bad:?}");
        }
    }

    #[test]
    fn a_repeated_country_header_is_ambiguous_and_dropped() {
        let r = record(&[
            ("x-vercel-ip-country", b"FR"),
            ("x-vercel-ip-country", b"DE"),
        ]);
        assert_eq!(r.country, None);
    }

    #[test]
    fn the_user_agent_is_cut_to_512_characters() {
        let long = "é".repeat(2000);
        let r = record(&[("user-agent", long.as_bytes())]);
        assert_eq!(r.user_agent.chars().count(), MAX_USER_AGENT_CHARS);
    }

    #[test]
    fn non_utf8_bytes_are_replaced_and_control_characters_removed() {
        // A header value can hold a tab and bytes >= 0x80; other controls come in encoded text.
        let r = record(&[("user-agent", b"a\xffb\tc")]);
        assert_eq!(r.user_agent, "a\u{FFFD}bc");
        assert_eq!(
            sanitize_text("x\u{0}\u{7f}\u{85}\r\ny".as_bytes(), 10),
            "xy"
        );
    }

    #[test]
    fn no_ip_header_reaches_the_record() {
        let r = record(&[
            ("x-forwarded-for", b"203.0.113.7"),
            ("x-real-ip", b"203.0.113.7"),
            ("x-vercel-forwarded-for", b"203.0.113.7"),
            ("user-agent", b"ua"),
        ]);
        assert!(!r.to_json().contains("203.0.113.7"));
    }

    #[test]
    fn ids_are_unique_and_the_timestamp_is_now() {
        let (a, b) = (record(&[]), record(&[]));
        assert_ne!(a.id, b.id);
        assert!(a.timestamp.abs_diff(now_millis()) < 60_000);
    }

    #[test]
    fn the_json_uses_camel_case_and_omits_an_unknown_country() {
        let json = record(&[("user-agent", b"ua")]).to_json();
        assert!(json.contains("\"userAgent\":\"ua\""), "{json}");
        assert!(
            !json.contains("country") && !json.contains("flag"),
            "{json}"
        );
    }

    #[test]
    fn a_record_survives_the_round_trip_through_storage() {
        let r = record(&[("user-agent", b"ua"), ("x-vercel-ip-country", b"JP")]);
        assert_eq!(RequestRecord::from_stored(&r.to_json()), Some(r));
    }

    #[test]
    fn stored_entries_that_break_the_rules_are_refused() {
        let good = record(&[("x-vercel-ip-country", b"DE")]);
        let mut wrong_flag = good.clone();
        wrong_flag.flag = Some("🇫🇷".into());
        let mut lower_country = good.clone();
        lower_country.country = Some("de".into());
        let mut control = good.clone();
        control.user_agent = "a\u{7}".into();
        for bad in [wrong_flag, lower_country, control] {
            assert_eq!(RequestRecord::from_stored(&bad.to_json()), None, "{bad:?}");
        }
        for raw in [
            "",
            "not json",
            "{}",
            "[1]",
            r#"{"id":"x"}"#,
            &"x".repeat(5000),
        ] {
            assert_eq!(RequestRecord::from_stored(raw), None, "{raw:?}");
        }
    }
}
