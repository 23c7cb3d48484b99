//! Settings: what the environment says, read once per process. Choosing a store from them is
//! [`crate::store::choice`]'s job; this module only reads.
//!
//! - Two sources: the process environment, and `.env.local` (what `vercel env pull .env.local`
//!   writes), read but never loaded into the environment.
//! - Every value is trimmed (`vercel env pull` can write a token with its newline), and a value
//!   that is empty or only whitespace counts as unset in both sources.
//! - The Upstash URL and tokens are resolved as one set, from one source and one naming family
//!   ([`upstash`]), so they can never point at two databases.
//! - `WAIT_UNTIL_*` settings are read name by name: the environment, else `.env.local`.
//! - `VERCEL` and `VERCEL_DEV` come from the environment only: they describe where this process
//!   runs, and a pulled `.env.local` may carry the deployment's values.
//! - Tokens never appear in `Debug` output or in any message built here.

mod env_file;
pub mod upstash;

use std::fmt;
pub use upstash::{Family, UpstashVars};

/// Where a value was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Environment,
    EnvLocal,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Environment => "the environment",
            Source::EnvLocal => ".env.local",
        })
    }
}

/// One value, trimmed and not empty, with the name and source it was read under: what a message
/// about it must name, so the user knows what to fix and where.
#[derive(Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub source: Source,
    pub value: String,
}

impl Setting {
    /// `KV_REST_API_TOKEN in .env.local`: the variable to check, never its value.
    pub fn origin(&self) -> String {
        format!("{} in {}", self.name, self.source)
    }

    /// For `Debug` of a secret: where it came from, not what it is.
    fn redacted(&self) -> String {
        format!("<redacted> ({})", self.origin())
    }
}

impl fmt::Debug for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self.value, self.origin())
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Settings {
    /// The Upstash URL and tokens, from one source and one family (`Debug` redacts the tokens).
    pub upstash: UpstashVars,
    /// `WAIT_UNTIL_STORE`, lower-cased: `memory` or `upstash` forces a backend.
    pub store: Option<String>,
    /// `WAIT_UNTIL_KEY`: the sorted set's key in Redis, when not the default.
    pub key: Option<String>,
    /// Running on Vercel (`VERCEL=1`), and not under `vercel dev` (which also sets
    /// `VERCEL_DEV=1` and runs locally).
    pub on_vercel: bool,
    /// Running under `vercel dev` (`VERCEL_DEV=1`), which starts a process per request.
    pub vercel_dev: bool,
    /// Whether each stored record leaves a success line (`WAIT_UNTIL_SUCCESS_LINES=off` turns
    /// them off; failure lines are never turned off).
    pub success_lines: bool,
    /// Values that were not understood or were ignored, for the start-up lines.
    pub notes: Vec<String>,
    /// `.env.local` exists but could not be read: what to fix.
    pub file_problem: Option<String>,
    /// `WAIT_UNTIL_SOURCE_URL`: where the page links for the source, as written.
    pub source_url: Option<String>,
    /// Vercel's description of the Git commit this deployment was built from.
    pub git: GitVars,
}

/// Vercel's system variables for a deployment built from a Git repository, as written
/// (`VERCEL_GIT_PROVIDER`, `VERCEL_GIT_REPO_OWNER`, `VERCEL_GIT_REPO_SLUG`,
/// `VERCEL_GIT_COMMIT_SHA`). Environment only, like `VERCEL`: they describe this deployment,
/// and a pulled `.env.local` may carry another's.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct GitVars {
    pub provider: Option<String>,
    pub owner: Option<String>,
    pub slug: Option<String>,
    pub commit: Option<String>,
}

impl Settings {
    /// The process environment and `.env.local` in the current directory.
    pub fn from_env() -> Self {
        let file = env_file::read(std::path::Path::new(".env.local"));
        // A value that is not Unicode is kept, with U+FFFD in place of its bad bytes: it is
        // set (so it is the environment's, and it is refused by name when checked), not unset.
        let environment =
            |name: &str| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned());
        let mut settings = Self::from_sources(environment, |name| file.vars.get(name).cloned());
        settings.notes.splice(0..0, file.notes);
        settings.file_problem = file.problem;
        settings
    }

    /// Settings from the two sources as lookups (the environment, the file, or a test's tables).
    pub fn from_sources(
        raw_environment: impl Fn(&str) -> Option<String>,
        file: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let environment = |name: &str| present(raw_environment(name));
        let file = |name: &str| present(file(name));
        let either = |name: &str| environment(name).or_else(|| file(name));
        let mut notes = Vec::new();
        let upstash = upstash::resolve(&environment, &file, &mut notes);
        // Our own words are matched in any case: `Memory` or `OFF` mean what they say.
        let word = |name: &str| either(name).map(|value| value.to_ascii_lowercase());
        let success_lines = match word("WAIT_UNTIL_SUCCESS_LINES").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                notes.push(format!(
                    "WAIT_UNTIL_SUCCESS_LINES must be `on` or `off`, not `{}`: success lines stay on",
                    shown(other)
                ));
                true
            }
        };
        // The runtime reads this itself, untrimmed, and quietly listens on 3000 when it does not
        // parse (or on a random port for 0); say so rather than leave a user wondering.
        // Blank is unset here too: the runtime's default is what was asked for.
        let port = raw_environment("VERCEL_DEV_PORT").filter(|port| !port.trim().is_empty());
        if let Some(written) = port {
            let listens_on = match written.parse::<u16>() {
                Ok(0) => "a random port",
                Ok(_) => "",
                Err(_) => "3000",
            };
            if !listens_on.is_empty() {
                notes.push(format!(
                    "VERCEL_DEV_PORT must be a port number from 1 to 65535 with no spaces, not \
                     `{}`: the local server listens on {listens_on}",
                    shown(&written)
                ));
            }
        }
        let vercel_dev = environment("VERCEL_DEV").as_deref() == Some("1");
        Self {
            upstash,
            store: word("WAIT_UNTIL_STORE"),
            key: either("WAIT_UNTIL_KEY"),
            on_vercel: environment("VERCEL").as_deref() == Some("1") && !vercel_dev,
            vercel_dev,
            success_lines,
            notes,
            file_problem: None,
            source_url: either("WAIT_UNTIL_SOURCE_URL"),
            git: GitVars {
                provider: environment("VERCEL_GIT_PROVIDER"),
                owner: environment("VERCEL_GIT_REPO_OWNER"),
                slug: environment("VERCEL_GIT_REPO_SLUG"),
                commit: environment("VERCEL_GIT_COMMIT_SHA"),
            },
        }
    }
}

/// Trimmed, and `None` when nothing is left.
fn present(value: Option<String>) -> Option<String> {
    let value = value?.trim().to_string();
    (!value.is_empty()).then_some(value)
}

/// A value as it may appear in a message: its first 32 characters, without control or format
/// characters (an escape sequence or a line break could forge or hide a start-up line).
pub(crate) fn shown(value: &str) -> String {
    value
        .chars()
        .filter(|c| !crate::record::is_removed(*c))
        .take(32)
        .collect()
}

/// Settings from a table standing for the environment, with no `.env.local`.
#[cfg(test)]
pub(crate) fn from_table(vars: &[(&str, &str)]) -> Settings {
    from_tables(vars, &[])
}

/// Settings from two tables: the environment and `.env.local`.
#[cfg(test)]
pub(crate) fn from_tables(environment: &[(&str, &str)], file: &[(&str, &str)]) -> Settings {
    let lookup = |vars: &[(&str, &str)], name: &str| {
        vars.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    Settings::from_sources(|name| lookup(environment, name), |name| lookup(file, name))
}

#[cfg(test)]
mod tests;
