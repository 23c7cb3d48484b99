//! A request path, checked once and split into percent-decoded segments.

use std::borrow::Cow;

/// The segments of a request path that is safe to route.
///
/// `parse` refuses what no route should ever see: a path that does not start with `/`, empty
/// segments, `.` and `..` (also as `%2e`), percent-encoding that is broken or decodes to
/// invalid UTF-8. One trailing slash is ignored, so `/api/recent/` is `/api/recent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPath<'a> {
    /// The path without its leading and trailing slash; `""` for `/`.
    trimmed: &'a str,
}

impl<'a> RequestPath<'a> {
    /// The path checked, or `None` when no route may ever see it (see the type's docs).
    pub fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix('/')?;
        if rest.is_empty() {
            return Some(Self { trimmed: "" });
        }
        let trimmed = rest.strip_suffix('/').unwrap_or(rest);
        // For `//` `trimmed` is empty, and `split` yields that one empty segment: refused below.
        for raw in trimmed.split('/') {
            let segment = decode(raw)?;
            if segment.is_empty() || segment == "." || segment == ".." {
                return None;
            }
        }
        Some(Self { trimmed })
    }

    /// The segments as they appear in the request, still percent-encoded.
    pub fn raw_segments(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let trimmed = self.trimmed;
        (!trimmed.is_empty())
            .then(|| trimmed.split('/'))
            .into_iter()
            .flatten()
    }

    /// The segments, percent-decoded. `parse` already proved every one of them decodes.
    pub fn segments(&self) -> impl Iterator<Item = Cow<'a, str>> + use<'a> {
        self.raw_segments()
            .map(|raw| decode(raw).unwrap_or(Cow::Borrowed(raw)))
    }

    /// How many segments the path has; `0` for `/`.
    pub fn segment_count(&self) -> usize {
        self.raw_segments().count()
    }
}

/// Percent-decodes one segment; borrows when there is nothing to decode.
pub(crate) fn decode(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.contains('%') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            // Both digits must follow; `%`, `%4` and `%zz` are broken encoding.
            let hi = hex_value(bytes.next()?)?;
            let lo = hex_value(bytes.next()?)?;
            out.push(hi * 16 + lo);
        } else {
            out.push(byte);
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Option<Vec<String>> {
        RequestPath::parse(path).map(|p| p.segments().map(Cow::into_owned).collect())
    }

    #[test]
    fn a_plain_path_splits_into_its_segments() {
        assert_eq!(segments("/api/recent").unwrap(), ["api", "recent"]);
    }

    #[test]
    fn one_trailing_slash_is_ignored() {
        assert_eq!(segments("/api/recent/").unwrap(), ["api", "recent"]);
    }

    #[test]
    fn the_root_has_no_segments() {
        assert_eq!(segments("/").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn empty_segments_are_refused() {
        for path in [
            "//",
            "/api//recent",
            "/api/recent//",
            "//api/recent",
            "//api//recent",
            "",
        ] {
            assert_eq!(segments(path), None, "{path:?}");
        }
    }

    #[test]
    fn dot_segments_are_refused_even_when_encoded() {
        for path in [
            "/api/../recent",
            "/api/./recent",
            "/api/%2e%2e/recent",
            "/api/%2e%2E/recent",
            "/api/%2E",
            "/api/recent/..",
            "/..",
        ] {
            assert_eq!(segments(path), None, "{path:?}");
        }
    }

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(
            segments("/api/wait%2Duntil").unwrap(),
            ["api", "wait-until"]
        );
        assert_eq!(segments("/api/a%20b").unwrap(), ["api", "a b"]);
        assert_eq!(segments("/api/%C3%A9").unwrap(), ["api", "é"]);
        // Hex digits in either case, as clients send both.
        assert_eq!(segments("/api/%c3%a9").unwrap(), ["api", "é"]);
        assert_eq!(segments("/api/%2f%2F").unwrap(), ["api", "//"]);
    }

    #[test]
    fn an_encoded_slash_stays_inside_its_segment() {
        assert_eq!(segments("/api/a%2Fb").unwrap(), ["api", "a/b"]);
    }

    #[test]
    fn broken_percent_encoding_is_refused() {
        for path in [
            "/api/%",
            "/api/recent%",
            "/api/%2",
            "/api/%zz",
            "/api/%ff",
            "/api/%C3",
        ] {
            assert_eq!(segments(path), None, "{path:?}");
        }
    }

    #[test]
    fn escapes_that_decode_to_invalid_utf8_are_refused() {
        // Not UTF-8 at all, and an overlong encoding of `/` that must never become a separator.
        for path in ["/api/%ff%fe", "/api%c0%afrecent", "/api/%C0%AF"] {
            assert_eq!(segments(path), None, "{path:?}");
        }
    }

    #[test]
    fn a_path_without_a_leading_slash_is_refused() {
        assert_eq!(segments("api/recent"), None);
        assert_eq!(segments("*"), None);
    }
}
