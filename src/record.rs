//! The record of one request: what we store, and how hostile input becomes safe to store.
//!
//! Promises:
//! - Built only from the method, `user-agent` and `x-vercel-ip-country`. No IP and no IP
//!   header (`x-forwarded-for`, `x-real-ip`, `x-vercel-forwarded-for`, …) is ever read.
//! - `userAgent` is at most [`MAX_USER_AGENT_CHARS`] characters, non-UTF-8 bytes replaced with
//!   U+FFFD, control characters (Unicode category Cc) and format characters (category Cf: bidi
//!   embeddings, overrides, isolates and marks, zero-width and other invisible characters, the
//!   BOM, tags) removed, so that a stored text shows what was sent: nothing reversed, nothing
//!   hidden. `method` follows the same rules and is at most [`MAX_METHOD_CHARS`]. The bound
//!   counts the characters kept: removal comes first.
//! - `country` is present only when there is exactly one `x-vercel-ip-country` header holding
//!   exactly two ASCII letters; it is upper-cased, and `flag` is its regional-indicator emoji.
//! - `id` is a version 7 UUID in lowercase canonical form (`01a2b3c4-d5e6-7f80-9a1b-2c3d4e5f6a7b`,
//!   [`is_id`]): time-ordered, so its text sorts records by when they were made, and one
//!   spelling per id, so no record can be stored twice under two. `timestamp` is the time in the
//!   id (one clock read for both), so ordering by time and then by text orders by id.
//! - [`RequestRecord::to_json`] is canonical: the id first, fields in one order, no spaces, so a
//!   record read back (from storage or a failure line) is written again as the same bytes, the
//!   same member of the sorted set.
//! - A stored record read back is checked against the same rules ([`RequestRecord::from_stored`]):
//!   whatever another writer put in storage, what we hand out obeys them. One holding a control
//!   or format character anywhere in its text is refused whole, not cleaned: we never write one.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const MAX_USER_AGENT_CHARS: usize = 512;
pub const MAX_METHOD_CHARS: usize = 32;
/// Longer stored entries are not records we wrote: skipped unread.
pub const MAX_STORED_BYTES: usize = 4096;

/// Deserialising checks the rules ([`RequestRecord::from_stored`]'s), so a record read back
/// from a failure line obeys them too. The derives read and write the fields as they are
/// (`remote = "Self"` makes them inherent functions); the trait impls below call them, and
/// `Deserialize` checks what was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase", deny_unknown_fields)]
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

impl Serialize for RequestRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RequestRecord::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for RequestRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let record = RequestRecord::deserialize(deserializer)?;
        match record.is_well_formed() {
            true => Ok(record),
            false => Err(D::Error::custom("not a record this app writes")),
        }
    }
}

impl RequestRecord {
    /// The record of `req`, with a fresh time-ordered id and the current time.
    pub fn of_request<B>(req: &http::Request<B>) -> Self {
        Self::from_parts(req.method().as_str(), req.headers())
    }

    pub fn from_parts(method: &str, headers: &http::HeaderMap) -> Self {
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .map(|value| sanitize_text(value.as_bytes(), MAX_USER_AGENT_CHARS))
            .unwrap_or_default();
        let country = single_header(headers, "x-vercel-ip-country").and_then(country_code);
        let id = uuid::Uuid::now_v7();
        Self {
            id: id.to_string(),
            // A v7 id's first 48 bits are its Unix time in milliseconds.
            timestamp: (id.as_u128() >> 80) as u64,
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
        serde_json::from_str(raw).ok()
    }

    /// The record's canonical text: what storage holds and failure lines carry.
    pub fn to_json(&self) -> String {
        // A struct of strings and integers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    fn is_well_formed(&self) -> bool {
        let text_ok =
            |text: &str, max: usize| text.chars().count() <= max && !text.chars().any(is_removed);
        let country_ok = match (&self.country, &self.flag) {
            (None, None) => true,
            (Some(country), Some(flag)) => {
                country_code(country.as_bytes()).as_deref() == Some(country.as_str())
                    && *flag == country_to_flag(country)
            }
            _ => false,
        };
        is_id(&self.id)
            && !self.method.is_empty()
            && text_ok(&self.method, MAX_METHOD_CHARS)
            && text_ok(&self.user_agent, MAX_USER_AGENT_CHARS)
            && country_ok
    }
}

/// Whether `id` can be a record's id: a version 7 UUID as the app writes it, 36 characters
/// `xxxxxxxx-xxxx-7xxx-Vxxx-xxxxxxxxxxxx` of lowercase hex, `V` one of `8 9 a b` (the variant).
/// The first 48 bits are the milliseconds since the Unix epoch it was made at.
pub fn is_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(at, &b)| match at {
            8 | 13 | 18 | 23 => b == b'-',
            14 => b == b'7',
            19 => matches!(b, b'8' | b'9' | b'a' | b'b'),
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// A value as it may appear in a message: its first 32 characters, without control or format
/// characters (an escape sequence or a line break could forge or hide a start-up line).
pub fn shown(value: &str) -> String {
    let kept = value.chars().filter(|c| !is_removed(*c));
    kept.take(32).collect()
}

/// Lossy UTF-8, control and format characters removed ([`is_removed`]), at most `max`
/// characters. Removal comes before the cut, so `max` counts characters a reader sees: padding a
/// text with invisible characters cannot push what follows out of the bound.
///
/// Removed, not replaced with a visible mark such as U+FFFD: these characters carry no text of
/// their own (a renderer draws nothing for them, or only reorders or joins their neighbours), so
/// removing them stores the text as a reader sees it with nothing reversed or hidden. U+FFFD
/// already says "these bytes were not UTF-8" here, and a user agent with a stray BOM or zero-width
/// space (copy-paste leftovers) would otherwise show noise.
pub fn sanitize_text(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter(|&c| !is_removed(c))
        .take(max)
        .collect()
}

/// Whether `c` is a character no record holds: a control character (Unicode general category
/// Cc) or a format character (Cf, [`FORMAT`]).
pub fn is_removed(c: char) -> bool {
    c.is_control() || is_format(c)
}

fn is_format(c: char) -> bool {
    // Sorted ranges: stop at the first that starts after `c`, so ASCII costs one comparison.
    FORMAT
        .iter()
        .take_while(|(first, _)| *first <= c)
        .any(|(_, last)| c <= *last)
}

/// Unicode's general category Cf (Format), Unicode 16.0, as sorted inclusive ranges; a unit
/// test checks it against Unicode's tables. The whole category, excluding nothing: it is one
/// rule anyone can check, and it holds every character that reorders or hides text (bidi
/// controls, zero-width and invisible characters, tags). Its few visible members (the Arabic,
/// Syriac and Kaithi signs that span the digits after them) lay themselves over their
/// neighbours too and have no place in a user agent or a method. Some costs, accepted because
/// each is visible and nothing is hidden: tags spell invisible ASCII, so a subdivision flag
/// (🏴 and tags, e.g. England's) is stored as the bare 🏴; without U+200D an emoji ZWJ sequence
/// (a family, the rainbow flag) is stored as its emoji side by side, and Persian or Indic text
/// loses a join. Not in Cf, so kept: variation selectors (emoji need U+FE0F), U+2028/U+2029,
/// combining marks.
const FORMAT: [(char, char); 21] = [
    ('\u{AD}', '\u{AD}'),       // soft hyphen
    ('\u{600}', '\u{605}'),     // Arabic number signs (visible, span the digits after)
    ('\u{61C}', '\u{61C}'),     // Arabic letter mark (bidi)
    ('\u{6DD}', '\u{6DD}'),     // Arabic end of ayah (visible)
    ('\u{70F}', '\u{70F}'),     // Syriac abbreviation mark (visible)
    ('\u{890}', '\u{891}'),     // Arabic pound and piastre marks above (visible)
    ('\u{8E2}', '\u{8E2}'),     // Arabic disputed end of ayah (visible)
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, non-joiner, joiner; LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides: LRE, RLE, PDF, LRO, RLO
    ('\u{2060}', '\u{2064}'),   // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'),   // bidi isolates LRI, RLI, FSI, PDI; deprecated format controls
    ('\u{FEFF}', '\u{FEFF}'),   // byte order mark (zero-width no-break space)
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation anchor, separator, terminator
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign (visible)
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above (visible)
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol beam, tie, slur and phrase controls
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters: invisible ASCII
];

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

#[cfg(test)]
mod fixtures {
    use super::RequestRecord;

    /// Records for the library's unit tests, which only need them distinct and ordered.
    impl RequestRecord {
        /// The id of a v7 UUID made `n` ms after the epoch (its other bits zero but the version
        /// and variant), timestamp `n`, method `GET`, nothing else: ids sort as `n` does.
        pub(crate) fn numbered(n: u64) -> Self {
            Self {
                id: format!("{:08x}-{:04x}-7000-8000-000000000000", n >> 16, n & 0xffff),
                timestamp: n,
                method: "GET".into(),
                user_agent: String::new(),
                country: None,
                flag: None,
            }
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

    /// `text` as the user agent and, with `GET` around it, as the method.
    fn cleaned(text: &str) -> (String, String) {
        let r = record(&[("user-agent", text.as_bytes())]);
        let method = RequestRecord::from_parts(&format!("GE{text}T"), &HeaderMap::new()).method;
        (r.user_agent, method)
    }

    #[test]
    fn bidi_embeddings_and_overrides_are_removed() {
        // LRE, RLE, PDF, LRO, RLO: "abc\u{202E}fed" would display as "abcdef".
        let (ua, method) = cleaned("abc\u{202E}fed \u{202A}1\u{202B}2\u{202C}3\u{202D}4");
        assert_eq!(
            (ua.as_str(), method.as_str()),
            ("abcfed 1234", "GEabcfed 1234T")
        );
    }

    #[test]
    fn bidi_isolates_are_removed() {
        // LRI, RLI, FSI, PDI.
        let (ua, method) = cleaned("a\u{2066}b\u{2067}c\u{2068}d\u{2069}e");
        assert_eq!((ua.as_str(), method.as_str()), ("abcde", "GEabcdeT"));
    }

    #[test]
    fn bidi_marks_are_removed() {
        // LRM, RLM, ALM.
        let (ua, method) = cleaned("a\u{200E}b\u{200F}c\u{61C}d");
        assert_eq!((ua.as_str(), method.as_str()), ("abcd", "GEabcdT"));
    }

    #[test]
    fn zero_width_and_invisible_characters_are_removed() {
        // Zero-width space, non-joiner, joiner; word joiner, invisible operators; Mongolian
        // vowel separator; soft hyphen; interlinear annotation; a deprecated format control.
        let hidden = "pay\u{200B}p\u{200C}a\u{200D}l \u{2060}\u{2061}\u{2062}\u{2063}\u{2064}\
                      x\u{180E}y\u{AD}z\u{FFF9}n\u{FFFA}o\u{FFFB}\u{206A}";
        let (ua, method) = cleaned(hidden);
        assert_eq!(
            (ua.as_str(), method.as_str()),
            ("paypal xyzno", "GEpaypal xyznoT")
        );
    }

    #[test]
    fn the_byte_order_mark_is_removed_wherever_it_is() {
        let (ua, method) = cleaned("\u{FEFF}Mozilla\u{FEFF}/5.0\u{FEFF}");
        assert_eq!(
            (ua.as_str(), method.as_str()),
            ("Mozilla/5.0", "GEMozilla/5.0T")
        );
    }

    #[test]
    fn tag_characters_spelling_hidden_text_are_removed() {
        // "ignore" in tag characters, behind a language tag: invisible ASCII.
        let spelled = "ignore"
            .chars()
            .filter_map(|c| char::from_u32(0xE0000 + c as u32));
        let tags: String = std::iter::once('\u{E0001}').chain(spelled).collect();
        assert_eq!(tags.chars().count(), 7);
        let (ua, method) = cleaned(&format!("Mozilla{tags}"));
        assert_eq!((ua.as_str(), method.as_str()), ("Mozilla", "GEMozillaT"));
    }

    #[test]
    fn ordinary_non_ascii_text_is_kept_intact() {
        // Accents (precomposed and combining), CJK, Hebrew and Arabic letters, a flag, an emoji
        // with a skin tone, one with its variation selector: none is a control or format
        // character.
        let text = "café naïve e\u{301} 日本語 中文 한국어 עברית العربية 🇫🇷 👍🏽 ❤\u{FE0F} ok";
        let r = record(&[
            ("user-agent", text.as_bytes()),
            ("x-vercel-ip-country", b"FR"),
        ]);
        assert_eq!(r.user_agent, text);
        assert_eq!(RequestRecord::from_stored(&r.to_json()), Some(r));
    }

    #[test]
    fn the_bound_counts_the_characters_left_after_removal() {
        let padded = "a\u{200B}\u{202E}".repeat(MAX_USER_AGENT_CHARS + 10);
        assert_eq!(cleaned(&padded).0, "a".repeat(MAX_USER_AGENT_CHARS));
        let method = RequestRecord::from_parts(&"\u{FEFF}G".repeat(40), &HeaderMap::new()).method;
        assert_eq!(method, "G".repeat(MAX_METHOD_CHARS));
    }

    /// `FORMAT` is Unicode's category Cf, all of it and nothing more: the same ranges as
    /// Unicode's own tables as regex-syntax has them (the tables proptest draws from, for the
    /// version `FORMAT` names). And `is_removed` reads it right: each range's first and last
    /// character are removed, their neighbours kept unless they are control characters.
    #[test]
    fn the_format_characters_are_exactly_unicode_s_category_cf() {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::parse(r"\p{Cf}").unwrap();
        let HirKind::Class(Class::Unicode(cf)) = hir.kind() else {
            panic!("\\p{{Cf}} is a class of code points: {hir:?}");
        };
        let unicode: Vec<(char, char)> = cf.ranges().iter().map(|r| (r.start(), r.end())).collect();
        assert_eq!(FORMAT[..], unicode[..]);
        let neighbour = |c: char, step: i64| char::from_u32((c as i64 + step) as u32);
        for (first, last) in FORMAT {
            assert!(
                is_removed(first) && is_removed(last),
                "{first:?}..={last:?}"
            );
            for outside in [neighbour(first, -1), neighbour(last, 1)]
                .into_iter()
                .flatten()
            {
                let in_another = FORMAT.iter().any(|&(a, b)| (a..=b).contains(&outside));
                let expected = outside.is_control() || in_another;
                assert_eq!(is_removed(outside), expected, "U+{:04X}", outside as u32);
            }
        }
    }

    /// The bound on a stored entry is exact, in bytes: a valid record padded (JSON allows
    /// trailing whitespace) to exactly `MAX_STORED_BYTES` is read, one byte more is refused.
    #[test]
    fn a_stored_entry_is_read_up_to_exactly_its_bound() {
        // Two bytes a character: the bound counts bytes, not characters.
        let record = record(&[("user-agent", "é".repeat(200).as_bytes())]);
        let padded = |len: usize| {
            let json = record.to_json();
            format!("{json}{}", " ".repeat(len - json.len()))
        };
        assert_eq!(
            RequestRecord::from_stored(&padded(MAX_STORED_BYTES)),
            Some(record.clone())
        );
        assert_eq!(
            RequestRecord::from_stored(&padded(MAX_STORED_BYTES + 1)),
            None
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
    fn ids_are_unique_and_the_timestamp_is_now_and_the_id_s_own_time() {
        let (a, b) = (record(&[]), record(&[]));
        assert_ne!(a.id, b.id);
        // The clock read independently: a broken clock must not judge itself.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert!(a.timestamp.abs_diff(now.as_millis() as u64) < 60_000);
        let millis_in_id = u64::from_str_radix(&a.id.replace('-', "")[..12], 16).unwrap();
        assert_eq!(a.timestamp, millis_in_id, "one clock read for both");
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
    fn a_record_read_back_is_written_again_as_the_same_bytes_with_the_id_first() {
        let r = record(&[
            (
                "user-agent",
                "Mozilla/5.0 \"quoted\" \\ é 🇫🇷 /&<>".as_bytes(),
            ),
            ("x-vercel-ip-country", b"fr"),
        ]);
        let json = r.to_json();
        assert!(
            json.starts_with(&format!(r#"{{"id":"{}","#, r.id)),
            "{json}"
        );
        let again = RequestRecord::from_stored(&json).unwrap().to_json();
        assert_eq!(again, json);
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
        // Another writer's records with format characters, which ours never hold.
        let mut overridden = good.clone();
        overridden.user_agent = "abc\u{202E}fed".into();
        let mut isolated = good.clone();
        isolated.method = "G\u{2067}ET".into();
        let mut zero_width = good.clone();
        zero_width.user_agent = "a\u{200B}b".into();
        let mut bom = good.clone();
        bom.id = "\u{FEFF}id".into();
        // A country that is not two upper-case letters, with the flag made for it.
        let mut lower_with_its_flag = good.clone();
        lower_with_its_flag.country = Some("de".into());
        lower_with_its_flag.flag = Some(country_to_flag("de"));
        let mut three_letters = good.clone();
        three_letters.country = Some("DEU".into());
        three_letters.flag = Some(country_to_flag("DEU"));
        // Texts out of their bounds, or empty where something is required.
        let mut long_agent = good.clone();
        long_agent.user_agent = "a".repeat(MAX_USER_AGENT_CHARS + 1);
        let mut long_method = good.clone();
        long_method.method = "G".repeat(MAX_METHOD_CHARS + 1);
        // Ids that are not a v7 UUID in lowercase canonical form.
        let not_ids: Vec<RequestRecord> = [
            "",
            "id-0001",
            "01A20BDB-F919-72E0-8000-000000000000",
            "01a20bdb-f919-42e0-8000-000000000000",
            "01a20bdb-f919-72e0-c000-000000000000",
            "01a20bdbf91972e08000000000000000",
            "{01a20bdb-f919-72e0-8000-000000000000}",
        ]
        .into_iter()
        .map(|id| RequestRecord {
            id: id.into(),
            ..good.clone()
        })
        .collect();
        let mut no_method = good.clone();
        no_method.method = String::new();
        for bad in [
            wrong_flag,
            lower_country,
            control,
            overridden,
            isolated,
            zero_width,
            bom,
            lower_with_its_flag,
            three_letters,
            long_agent,
            long_method,
            no_method,
        ]
        .into_iter()
        .chain(not_ids)
        {
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

    #[test]
    fn an_id_is_a_v7_uuid_as_made_here() {
        for _ in 0..100 {
            let id = uuid::Uuid::now_v7().to_string();
            assert!(is_id(&id), "{id}");
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
        }
        for n in [0, 1, 0xffff, 0x1_0000, (1 << 48) - 1] {
            assert!(is_id(&RequestRecord::numbered(n).id), "{n}");
        }
        assert!(RequestRecord::numbered(0xffff).id < RequestRecord::numbered(0x1_0000).id);
        let good = "01a20bdb-f919-72e0-9abc-def012345678";
        assert!(is_id(good));
        // Each position: a character that only fits elsewhere.
        for at in 0..good.len() {
            for wrong in ['-', 'g', 'A', '7', '8', 'c', '0'] {
                let mut id = good.to_string();
                id.replace_range(at..=at, &wrong.to_string());
                let fits = match at {
                    8 | 13 | 18 | 23 => wrong == '-',
                    14 => wrong == '7',
                    19 => matches!(wrong, '8' | '9' | 'a' | 'b'),
                    _ => wrong.is_ascii_digit() || ('a'..='f').contains(&wrong),
                };
                assert_eq!(is_id(&id), fits, "{id}");
            }
        }
        assert!(!is_id(&good[..35]));
        assert!(!is_id(&format!("{good}0")));
    }
}
