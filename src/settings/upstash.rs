//! The Upstash URL and its tokens, resolved as one set so they always name one database.
//!
//! Name by name lookup could take the URL from the shell and a token from `.env.local`, or a
//! `KV_*` URL with an `UPSTASH_*` token: every call then fails with "refused the token" and
//! nothing says why. So:
//!
//! 1. **One source.** The environment, if it sets any of the five names below; else
//!    `.env.local`. A file value never fills a gap the environment left.
//! 2. **One family.** `KV_*` (what Vercel's Upstash integration sets) when it has a URL, else
//!    `UPSTASH_*` when it has one, else whichever family has anything set (so a missing URL is
//!    reported under the names the user wrote). The other family is ignored, with a note when it
//!    holds different values.
//! 3. Only `KV_*` has a read-only token name; with `UPSTASH_*`, reads use the write token.

use super::{Setting, Source};
use std::fmt;

/// One naming family of the Upstash settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// How messages name the family.
    pub label: &'static str,
    pub url: &'static str,
    pub token: &'static str,
    pub read_token: Option<&'static str>,
}

pub const KV: Family = Family {
    label: "KV_*",
    url: "KV_REST_API_URL",
    token: "KV_REST_API_TOKEN",
    read_token: Some("KV_REST_API_READ_ONLY_TOKEN"),
};

pub const UPSTASH: Family = Family {
    label: "UPSTASH_*",
    url: "UPSTASH_REDIS_REST_URL",
    token: "UPSTASH_REDIS_REST_TOKEN",
    read_token: None,
};

impl Family {
    fn names(&self) -> impl Iterator<Item = &'static str> {
        [Some(self.url), Some(self.token), self.read_token]
            .into_iter()
            .flatten()
    }
}

/// The Upstash settings as found: every value from one source and one family.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstashVars {
    pub family: Family,
    pub url: Option<Setting>,
    pub write_token: Option<Setting>,
    pub read_token: Option<Setting>,
}

impl UpstashVars {
    /// Nothing of the family is set: Upstash is not wanted.
    pub fn is_empty(&self) -> bool {
        self.url.is_none() && self.write_token.is_none() && self.read_token.is_none()
    }
}

impl fmt::Debug for UpstashVars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secret = |token: &Option<Setting>| token.as_ref().map(Setting::redacted);
        f.debug_struct("UpstashVars")
            .field("url", &self.url)
            .field("write_token", &secret(&self.write_token))
            .field("read_token", &secret(&self.read_token))
            .finish()
    }
}

/// Resolves the set from the two sources (each a lookup that already treats blank as unset).
pub(super) fn resolve(
    environment: &dyn Fn(&str) -> Option<String>,
    file: &dyn Fn(&str) -> Option<String>,
    notes: &mut Vec<String>,
) -> UpstashVars {
    let sets_any = |lookup: &dyn Fn(&str) -> Option<String>| {
        KV.names()
            .chain(UPSTASH.names())
            .any(|name| lookup(name).is_some())
    };
    let (source, lookup) = if sets_any(environment) {
        if sets_any(file) {
            notes.push(
                "the environment sets Upstash settings, so those in .env.local are not read".into(),
            );
        }
        (Source::Environment, environment)
    } else {
        (Source::EnvLocal, file)
    };
    let read = |family: Family| {
        let get = |name: &'static str| {
            lookup(name).map(|value| Setting {
                name,
                source,
                value,
            })
        };
        UpstashVars {
            family,
            url: get(family.url),
            write_token: get(family.token),
            read_token: family.read_token.and_then(get),
        }
    };
    let (kv, upstash) = (read(KV), read(UPSTASH));
    let (chosen, ignored, why) = if kv.url.is_some() {
        (
            kv,
            upstash,
            "KV_* are the names Vercel's Upstash integration sets",
        )
    } else if upstash.url.is_some() {
        (upstash, kv, "only UPSTASH_REDIS_REST_URL is set")
    } else if !kv.is_empty() {
        (
            kv,
            upstash,
            "KV_* are the names Vercel's Upstash integration sets",
        )
    } else {
        (upstash, kv, "")
    };
    if disagree(&chosen, &ignored) {
        let names: Vec<_> = [&ignored.url, &ignored.write_token, &ignored.read_token]
            .into_iter()
            .flatten()
            .map(|setting| setting.name)
            .collect();
        notes.push(format!(
            "{} ignored: the Upstash settings are read from one family, {} ({why})",
            names.join(", "),
            chosen.family.label
        ));
    }
    chosen
}

/// Whether the ignored family holds anything that differs from the chosen one: worth a note,
/// since the user may have meant it. The same values under both names are not.
fn disagree(chosen: &UpstashVars, ignored: &UpstashVars) -> bool {
    let value = |setting: &Option<Setting>| setting.as_ref().map(|s| s.value.clone());
    let differs = |theirs: &Option<Setting>, ours: &Option<Setting>| {
        theirs.is_some() && value(theirs) != value(ours)
    };
    differs(&ignored.url, &chosen.url)
        || differs(&ignored.write_token, &chosen.write_token)
        || differs(&ignored.read_token, &chosen.read_token)
}
