//! The Upstash settings checked before first use: a URL that parses as http(s), and tokens that
//! can be sent as a header. A setting that cannot work is refused at start-up with the name of
//! the variable (never its value), instead of failing every call later as "storage down".

use crate::settings::{Setting, UpstashVars};
use crate::store::DEFAULT_KEY;
use http::HeaderValue;
use std::fmt;

/// Where the database is and the tokens to use. `Debug` never shows a token (a
/// [`Credential`]'s own `Debug` redacts it).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct UpstashSettings {
    /// The REST base URL, without a trailing slash.
    pub url: String,
    pub write: Credential,
    /// The read-only token, or the write token when there is none.
    pub read: Credential,
    /// The sorted set's key: `WAIT_UNTIL_KEY`, else [`DEFAULT_KEY`].
    pub key: String,
}

/// A token as the `Authorization` header it is sent in, and the variable it came from, for
/// messages that must say what to check when storage refuses it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub header: HeaderValue,
    /// e.g. `KV_REST_API_TOKEN in .env.local`.
    pub origin: String,
    /// The token itself, only to take it out of text storage sends back.
    secret: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted> ({})", self.origin)
    }
}

impl Credential {
    /// `reply` with this token replaced by `<redacted>` (also as JSON may escape it): storage's
    /// own error messages reach logs and answers, and a server that echoes the token must not
    /// leak it there. Done on the whole reply, before any message is cut short, so no part of
    /// the token survives either.
    pub fn scrub(&self, reply: Vec<u8>) -> Vec<u8> {
        let Ok(text) = std::str::from_utf8(&reply) else {
            // Not JSON either: it is refused as malformed, and never shown.
            return reply;
        };
        let escaped = self.secret.replace('/', "\\/");
        if !text.contains(&self.secret) && !text.contains(&escaped) {
            return reply;
        }
        text.replace(&self.secret, "<redacted>")
            .replace(&escaped, "<redacted>")
            .into_bytes()
    }

    fn new(token: &Setting) -> Result<Self, String> {
        let refused = || {
            format!(
                "{} cannot be sent as an HTTP header: it holds a character that is not \
                 visible ASCII (a line break, a space) or a quote mark (copy the token again, \
                 without quotes)",
                token.origin()
            )
        };
        // Upstash tokens are visible ASCII without quotes. hyper would send other bytes (or
        // fail on each call as "request failed", retried as if storage were down), and quotes
        // are what a shell or an env file left around the value: refuse them here, once.
        let usable = |byte: u8| byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\'' | b'`');
        if !token.value.bytes().all(usable) {
            return Err(refused());
        }
        let mut header =
            HeaderValue::from_str(&format!("Bearer {}", token.value)).map_err(|_| refused())?;
        // Keeps it out of any debug output of the HTTP stack.
        header.set_sensitive(true);
        Ok(Self {
            header,
            origin: token.origin(),
            secret: token.value.clone(),
        })
    }
}

/// Why the Upstash settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Nothing of the family is set.
    Missing,
    /// Something is set, but not enough or not right: the message names what to fix.
    Invalid(String),
}

impl UpstashSettings {
    /// Checks `vars`; a note when reads will use the write token.
    pub fn from_vars(vars: &UpstashVars, notes: &mut Vec<String>) -> Result<Self, Unusable> {
        if vars.is_empty() {
            return Err(Unusable::Missing);
        }
        let missing = [
            (vars.family.url, vars.url.is_none()),
            (vars.family.token, vars.write_token.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, missing)| missing.then_some(name))
        .collect::<Vec<_>>();
        let (Some(url), Some(write_token)) = (&vars.url, &vars.write_token) else {
            // Something is set (not empty), so at least one of the three is there.
            let set = [&vars.url, &vars.write_token, &vars.read_token]
                .into_iter()
                .flatten()
                .next()
                .map(|setting| format!("{} is set in {}", setting.name, setting.source))
                .unwrap_or_default();
            return Err(Unusable::Invalid(format!(
                "{set}, but {} not: set the URL and the token together, in one place",
                match missing.as_slice() {
                    [one] => format!("{one} is"),
                    both => format!("{} are", both.join(" and ")),
                }
            )));
        };
        let url = base_url(url).map_err(Unusable::Invalid)?;
        if url.starts_with("http://") && !is_loopback(&url) {
            notes.push(format!(
                "{} uses http://: the token travels unencrypted (use https:// outside a local \
                 emulator)",
                vars.url.as_ref().map(Setting::origin).unwrap_or_default()
            ));
        }
        let write = Credential::new(write_token).map_err(Unusable::Invalid)?;
        let read = match &vars.read_token {
            Some(token) => Credential::new(token).map_err(Unusable::Invalid)?,
            None => {
                notes.push(match vars.family.read_token {
                    Some(name) => format!("{name} is not set: reads use the write token"),
                    None => format!(
                        "{} has no read-only token name: reads use the write token",
                        vars.family.label
                    ),
                });
                write.clone()
            }
        };
        Ok(Self {
            url,
            write,
            read,
            key: DEFAULT_KEY.into(),
        })
    }

    /// With the key `WAIT_UNTIL_KEY` names, when it is set: at most [`MAX_KEY_CHARS`]
    /// characters, none of them a control or format character (it is shown in messages).
    pub fn with_key(mut self, key: Option<&str>) -> Result<Self, Unusable> {
        if let Some(key) = key {
            if key.chars().count() > MAX_KEY_CHARS || key.chars().any(crate::record::is_removed) {
                return Err(Unusable::Invalid(format!(
                    "WAIT_UNTIL_KEY must be at most {MAX_KEY_CHARS} characters, without control \
                     or format characters"
                )));
            }
            self.key = key.into();
        }
        Ok(self)
    }
}

/// The longest key `WAIT_UNTIL_KEY` may name.
pub const MAX_KEY_CHARS: usize = 200;

/// The URL as calls are made to it: http(s), no query or fragment, no trailing slash. The
/// scheme is matched in any case (`HTTPS://` works), as URLs are.
fn base_url(setting: &Setting) -> Result<String, String> {
    let origin = setting.origin();
    let url = reqwest::Url::parse(&setting.value)
        .map_err(|_| format!("{origin} is not a URL (expected https://<database>.upstash.io)"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!(
            "{origin} must be an https:// URL: the database's REST URL, not its `{}` address",
            url.scheme()
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // It would be shown wherever the URL is (start-up lines, `Debug`): refuse it whole.
        return Err(format!(
            "{origin} must not hold a user or password: the token goes in its own variable"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{origin} must be the database's REST URL, without `?` or `#`"
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Whether `url` (already checked) names this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
fn is_loopback(url: &str) -> bool {
    let Some(url) = reqwest::Url::parse(url).ok() else {
        return false;
    };
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Source;

    fn credential(token: &str) -> Credential {
        let setting = Setting {
            name: "KV_REST_API_TOKEN",
            source: Source::Environment,
            value: token.into(),
        };
        Credential::new(&setting).unwrap()
    }

    #[test]
    fn a_token_header_is_marked_sensitive() {
        assert!(credential("AXy/s3cret=").header.is_sensitive());
    }

    #[test]
    fn a_token_storage_sends_back_is_scrubbed_plain_or_json_escaped() {
        let token = credential("AXy/s3cret=");
        let reply = br#"{"error":"bad token AXy/s3cret= or AXy\/s3cret="}"#.to_vec();
        assert_eq!(
            String::from_utf8(token.scrub(reply)).unwrap(),
            r#"{"error":"bad token <redacted> or <redacted>"}"#
        );
        // Either form alone is found too.
        let plain = br#"{"error":"bad token AXy/s3cret="}"#.to_vec();
        let escaped = br#"{"error":"bad token AXy\/s3cret="}"#.to_vec();
        for reply in [plain, escaped] {
            assert_eq!(
                String::from_utf8(token.scrub(reply)).unwrap(),
                r#"{"error":"bad token <redacted>"}"#
            );
        }
        let clean = br#"{"result":"OK"}"#.to_vec();
        assert_eq!(token.scrub(clean.clone()), clean);
        let not_text = b"\xff AXy/s3cret=".to_vec();
        assert_eq!(
            token.scrub(not_text.clone()),
            not_text,
            "left to be refused as malformed"
        );
    }

    #[test]
    fn loopback_hosts_are_told_apart_from_the_rest() {
        for url in [
            "http://localhost:8079",
            "http://127.0.0.2",
            "http://[::1]:80",
        ] {
            assert!(is_loopback(url), "{url}");
        }
        for url in [
            "http://x.upstash.io",
            "http://10.0.0.1",
            "http://localhost.evil.io",
            "http://notlocalhost",
        ] {
            assert!(!is_loopback(url), "{url}");
        }
    }
}
