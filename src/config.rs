//! Configuration: read once per process, from the environment and `.env.local` (what `vercel
//! env pull .env.local` writes; never loaded into the environment), into one [`Config`] that
//! holds the store to use. Values are trimmed and a blank one is unset. What cannot work is
//! refused naming the variable and where it was read, never its value; tokens become
//! [`Secret`]s, which cannot print themselves.
//!
//! Where each value is read (GUIDE.md's tables are checked against these, as they are):
//!
//! | Question | Answer |
//! |---|---|
//! | Which source for the Upstash URL and tokens? | The environment if it sets any of the five Upstash names; else `.env.local`. A file value never fills a gap the environment left. |
//! | Which family? | `KV_*` (what Vercel's Upstash integration sets) if it has a URL; else `UPSTASH_*` if it has one; else the one with anything set. The other family is ignored, and start-up says so when it holds different values. |
//! | Read-only token? | Only `KV_REST_API_READ_ONLY_TOKEN`, and only with the `KV_*` family; otherwise reads use the write token, and start-up says so. |
//! | `WAIT_UNTIL_*`? | Name by name: the environment, else `.env.local`. |
//! | `VERCEL`, `VERCEL_DEV`, `VERCEL_GIT_*`? | The environment only: they say where the process runs, and a pulled file may carry the deployment's. |
//!
//! The store is chosen by the first rule that applies, and start-up prints which:
//!
//! | # | When | Store |
//! |---|---|---|
//! | 1 | `WAIT_UNTIL_STORE=memory` | memory, whatever else is set |
//! | 2 | `WAIT_UNTIL_STORE` is neither `memory` nor `upstash` | unconfigured, naming the value |
//! | 3 | Upstash settings set but unusable | unconfigured, naming the variable: a typo never falls back to memory |
//! | 4 | Upstash settings set and usable | Upstash |
//! | 5 | none set, and `.env.local` exists but cannot be read | unconfigured, naming the file |
//! | 6 | none set, `WAIT_UNTIL_STORE=upstash` | unconfigured, naming what to set |
//! | 7 | none set, on Vercel (`VERCEL=1` without `VERCEL_DEV=1`) | unconfigured: memory would lose records between instances |
//! | 8 | none set, under `vercel dev` (`VERCEL_DEV=1`) | a file, `.vercel/dev/requests-newest.json`: the CLI starts a process per request |
//! | 9 | none set (`cargo run`) | memory |

use crate::record::shown;
use crate::store::upstash::Secret;
use crate::store::{DEFAULT_KEY, FileStore, MemoryStore, Store, UpstashStore, file};
use http::HeaderValue;
use std::collections::HashMap;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

/// What the app runs with.
#[derive(Debug)]
pub struct Config {
    pub store: Store,
    /// Which rule chose the store, for the start-up line.
    pub why: String,
    /// `WAIT_UNTIL_SUCCESS_LINES` is not `off` (failure lines are never turned off).
    pub success_lines: bool,
    /// `WAIT_UNTIL_SOURCE_URL`; `VERCEL_GIT_PROVIDER`, `_REPO_OWNER`, `_REPO_SLUG`, `_COMMIT_SHA`.
    pub source_url: Option<String>,
    pub git: [Option<String>; 4],
    /// What was ignored or not understood, for the start-up lines.
    pub notes: Vec<String>,
}

/// The Upstash names of one family: URL, token, read-only token (`UPSTASH_*` has none).
type Family = [&'static str; 3];
const KV: Family = [
    "KV_REST_API_URL",
    "KV_REST_API_TOKEN",
    "KV_REST_API_READ_ONLY_TOKEN",
];
const UPSTASH: Family = ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", ""];

fn label(family: Family) -> &'static str {
    if family == KV { "KV_*" } else { "UPSTASH_*" }
}

/// The longest key `WAIT_UNTIL_KEY` may name.
pub const MAX_KEY_CHARS: usize = 200;
/// Far above any real settings file; a larger `.env.local` is not read at all.
pub const MAX_ENV_FILE_BYTES: u64 = 1 << 20;
const FILE: &str = ".env.local";
const NOT_CONFIGURED: &str = "storage is not configured: set KV_REST_API_URL and \
                              KV_REST_API_TOKEN (add the Upstash integration on Vercel)";

impl Config {
    /// The process environment and `.env.local` in the working directory.
    pub fn from_env() -> Self {
        // A value that is not Unicode is kept, with U+FFFD for its bad bytes: it is set (so it
        // is the environment's), and refused by name when checked.
        let environment = |name: &str| Some(std::env::var_os(name)?.to_string_lossy().into());
        Self::from_sources(&environment, &EnvFile::read(Path::new(FILE)))
    }

    /// From the environment as a lookup, and what `.env.local` gave.
    pub fn from_sources(raw: &dyn Fn(&str) -> Option<String>, file: &EnvFile) -> Self {
        let env = |name: &str| raw(name).and_then(present);
        let in_file = |name: &str| file.vars.get(name).cloned().and_then(present);
        let either = |name: &str| env(name).or_else(|| in_file(name));
        // Our own words are matched in any case: `Memory` or `OFF` mean what they say.
        let word = |name: &str| either(name).map(|value| value.to_ascii_lowercase());
        let mut notes = file.notes.clone();
        let lines = word("WAIT_UNTIL_SUCCESS_LINES").unwrap_or_else(|| "on".into());
        if !["on", "off"].contains(&lines.as_str()) {
            notes.push(format!(
                "WAIT_UNTIL_SUCCESS_LINES must be `on` or `off`, not `{}`: success lines stay on",
                shown(&lines)
            ));
        }
        // The runtime reads this itself, untrimmed, and quietly listens on 3000 when it does not
        // parse (or on a random port for 0): say so rather than leave a user wondering.
        let port = raw("VERCEL_DEV_PORT").unwrap_or_default();
        let listens_on = match port.parse::<u16>() {
            Ok(0) => "a random port",
            Err(_) if !port.trim().is_empty() => "3000",
            _ => "",
        };
        if !listens_on.is_empty() {
            notes.push(format!(
                "VERCEL_DEV_PORT must be a port number from 1 to 65535 with no spaces, not `{}`: \
                 the local server listens on {listens_on}",
                shown(&port)
            ));
        }
        let vercel_dev = env("VERCEL_DEV").as_deref() == Some("1");
        let on_vercel = env("VERCEL").as_deref() == Some("1") && !vercel_dev;
        let found = resolve(&env, &in_file, &mut notes);
        let unconfigured = |message: &str| Store::Unconfigured(message.into());
        let memory = || Store::Memory(MemoryStore::default());
        let asked = word("WAIT_UNTIL_STORE");
        let forced = asked.as_deref() == Some("upstash");
        let (store, why) = match asked.as_deref() {
            Some("memory") => (memory(), "WAIT_UNTIL_STORE=memory"),
            Some(other) if other != "upstash" => (
                unconfigured(&format!(
                    "WAIT_UNTIL_STORE must be `memory` or `upstash`, not `{}`",
                    shown(other)
                )),
                "WAIT_UNTIL_STORE has an unknown value",
            ),
            _ => match check(found, either("WAIT_UNTIL_KEY"), &mut notes) {
                Err(Some(why)) => (unconfigured(&why), "the Upstash settings cannot be used"),
                Ok(found) if forced => (Store::Upstash(found), "WAIT_UNTIL_STORE=upstash"),
                Ok(found) => (Store::Upstash(found), "Upstash settings found"),
                // Settings may be in the file that cannot be read: memory would lose records
                // quietly, and "not configured" would send the user elsewhere.
                Err(None) if let Some(problem) = &file.problem => (
                    unconfigured(problem),
                    "no Upstash settings in the environment, and .env.local cannot be read",
                ),
                Err(None) if forced => (
                    unconfigured(NOT_CONFIGURED),
                    "WAIT_UNTIL_STORE=upstash but no Upstash settings",
                ),
                Err(None) if on_vercel => (
                    unconfigured(NOT_CONFIGURED),
                    "running on Vercel (VERCEL=1) without Upstash settings; memory would lose \
                     records between instances",
                ),
                Err(None) if vercel_dev => (
                    Store::File(FileStore::new(file::DEV_PATH)),
                    "no Upstash settings, and vercel dev starts a process for each request: \
                     records are kept in .vercel/dev/requests-newest.json",
                ),
                Err(None) => (
                    memory(),
                    "no Upstash settings: records live in this process only",
                ),
            },
        };
        // Said once: as the store's problem, or else as a note.
        if let Some(problem) = &file.problem
            && !matches!(&store, Store::Unconfigured(message) if message == problem)
        {
            notes.push(problem.clone());
        }
        let git = ["PROVIDER", "REPO_OWNER", "REPO_SLUG", "COMMIT_SHA"]
            .map(|part| env(&format!("VERCEL_GIT_{part}")));
        let (why, source_url) = (why.into(), either("WAIT_UNTIL_SOURCE_URL"));
        let success_lines = lines != "off";
        Self {
            store,
            why,
            success_lines,
            source_url,
            git,
            notes,
        }
    }
}

/// Trimmed, and unset when nothing is left.
fn present(value: String) -> Option<String> {
    Some(value.trim().to_string()).filter(|value| !value.is_empty())
}

/// The Upstash set as found: one family, its values, and the one source they were read from.
type Found = (Family, [Option<String>; 3], &'static str);

/// Reads the Upstash set from one source and one family (the table above).
fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    in_file: &dyn Fn(&str) -> Option<String>,
    notes: &mut Vec<String>,
) -> Found {
    let names = || KV.into_iter().chain(UPSTASH);
    let sets_any = |lookup: &dyn Fn(&str) -> Option<String>| names().any(|n| lookup(n).is_some());
    let (source, lookup) = match (sets_any(env), sets_any(in_file)) {
        (false, _) => (FILE, in_file),
        (true, false) => ("the environment", env),
        (true, true) => {
            notes.push(format!(
                "the environment sets Upstash settings, so those in {FILE} are not read"
            ));
            ("the environment", env)
        }
    };
    let read = |family: Family| (family, family.map(lookup), source);
    let (kv, upstash) = (read(KV), read(UPSTASH));
    // KV_* when it has a URL, or when neither has one but it has something.
    let kv_chosen =
        kv.1[0].is_some() || (upstash.1[0].is_none() && kv.1.iter().any(Option::is_some));
    let integration = "KV_* are the names Vercel's Upstash integration sets";
    let (chosen, ignored, why) = match kv_chosen {
        true => (kv, upstash, integration),
        false => (upstash, kv, "only UPSTASH_REDIS_REST_URL is set"),
    };
    // The same values under both names are no news; different ones the user may have meant.
    let differs = |i: usize| ignored.1[i].is_some() && ignored.1[i] != chosen.1[i];
    if (0..3).any(differs) {
        let set = |i: &usize| ignored.1[*i].is_some();
        let names: Vec<&str> = (0..3).filter(set).map(|i| ignored.0[i]).collect();
        notes.push(format!(
            "{} ignored: the Upstash settings are read from one family, {} ({why})",
            names.join(", "),
            label(chosen.0)
        ));
    }
    chosen
}

/// The store `found` describes, or why not; notes when reads use the write token, or the token
/// travels unencrypted.
fn check(found: Found, key: Option<String>, notes: &mut Vec<String>) -> Checked<UpstashStore> {
    let (family, [url, write, read], source) = found;
    let origin = |i: usize| format!("{} in {source}", family[i]);
    let (Some(url), Some(write)) = (&url, &write) else {
        let set = (0..3)
            .find(|&i| [&url, &write, &read][i].is_some())
            .ok_or(None)?;
        let missing = match (&url, &write) {
            (None, None) => format!("{} and {} are", family[0], family[1]),
            (None, _) => format!("{} is", family[0]),
            _ => format!("{} is", family[1]),
        };
        let set = format!("{} is set in {source}", family[set]);
        let fix = "set the URL and the token together, in one place";
        return Err(Some(format!("{set}, but {missing} not: {fix}")));
    };
    let url = base_url(url, &origin(0))?;
    let host = url.host_str().unwrap_or_default();
    if url.scheme() == "http" && !is_loopback(host) {
        notes.push(format!(
            "{} uses http://: the token travels unencrypted (use https:// outside a local \
             emulator)",
            origin(0)
        ));
    }
    let write = secret(write, origin(1))?;
    let read = match (&read, family[2]) {
        (Some(token), _) => secret(token, origin(2))?,
        (None, name) => {
            let missing = match name {
                "" => format!("{} has no read-only token name", label(family)),
                name => format!("{name} is not set"),
            };
            notes.push(format!("{missing}: reads use the write token"));
            write.clone()
        }
    };
    let key = key.unwrap_or_else(|| DEFAULT_KEY.into());
    if key.chars().count() > MAX_KEY_CHARS || key.chars().any(crate::record::is_removed) {
        return Err(Some(format!(
            "WAIT_UNTIL_KEY must be at most {MAX_KEY_CHARS} characters, without control or \
             format characters"
        )));
    }
    let url = url.as_str().trim_end_matches('/').into();
    Ok(UpstashStore {
        url,
        write,
        read,
        key,
    })
}

/// What was checked, or why it cannot be used: `None` when nothing is set, else what to fix.
type Checked<T> = Result<T, Option<String>>;

/// The URL as calls are made to it: http(s) (the scheme in any case, as URLs are), with no user,
/// password, query or fragment (they would be shown wherever the URL is).
fn base_url(written: &str, origin: &str) -> Checked<reqwest::Url> {
    let why = match reqwest::Url::parse(written) {
        Err(_) => "is not a URL (expected https://<database>.upstash.io)".to_string(),
        Ok(url) if !matches!(url.scheme(), "https" | "http") => format!(
            "must be an https:// URL: the database's REST URL, not its `{}` address",
            url.scheme()
        ),
        Ok(url) if !url.username().is_empty() || url.password().is_some() => {
            "must not hold a user or password: the token goes in its own variable".into()
        }
        Ok(url) if url.query().is_some() || url.fragment().is_some() => {
            "must be the database's REST URL, without `?` or `#`".into()
        }
        Ok(url) => return Ok(url),
    };
    Err(Some(format!("{origin} {why}")))
}

/// Whether `host` names this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
fn is_loopback(host: &str) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost" || ip.parse().is_ok_and(|ip: IpAddr| ip.is_loopback())
}

/// `token` as a [`Secret`], if it can be sent as a header. Upstash tokens are visible ASCII
/// without quotes: hyper would send other bytes (or fail every call as if storage were down),
/// and quotes are what a shell or an env file left around the value.
fn secret(token: &str, origin: String) -> Checked<Secret> {
    let usable = |byte: u8| byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\'' | b'`');
    let header = HeaderValue::from_str(&format!("Bearer {token}")).ok();
    let (Some(mut header), true) = (header, token.bytes().all(usable)) else {
        return Err(Some(format!(
            "{origin} cannot be sent as an HTTP header: it holds a character that is not visible \
             ASCII (a line break, a space) or a quote mark (copy the token again, without quotes)"
        )));
    };
    header.set_sensitive(true);
    Ok(Secret::new(header, origin, token))
}

/// What `.env.local` gave: its variables, notes, and the problem that kept it from being read.
#[derive(Debug, Default)]
pub struct EnvFile {
    pub vars: HashMap<String, String>,
    pub notes: Vec<String>,
    /// The file exists but could not be read: its settings may be missing.
    pub problem: Option<String>,
}

impl EnvFile {
    /// What `path` sets, read as dotenv files are (quotes and escapes undone, `$NAME` expanded,
    /// the last of a repeated name kept). Only a regular file (after symlinks) is opened, since a
    /// FIFO would block and `/dev/zero` fill memory, and only 1 MiB of UTF-8 is read. Lines that
    /// are not `NAME=value` are counted, never shown: one may hold a token.
    pub fn read(path: &Path) -> Self {
        let shown = path.display();
        let mut file = EnvFile::default();
        let text = match std::fs::metadata(path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return file,
            Err(_) => Err("cannot be read"),
            Ok(metadata) if !metadata.is_file() => Err("is not a regular file"),
            Ok(_) => std::fs::File::open(path)
                .map_err(|_| "cannot be read")
                .and_then(read_bounded),
        };
        let Ok(text) = text.inspect_err(|why| {
            file.problem = Some(format!("{shown} {why}: fix or remove it"));
        }) else {
            return file;
        };
        // Editors on Windows start a UTF-8 file with a byte order mark; it is not part of a name.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut skipped = 0;
        // Read from memory, as UTF-8 already checked: the only error is a line that does not parse.
        for entry in dotenvy::from_read_iter(text.as_bytes()) {
            match entry {
                Ok((name, value)) => drop(file.vars.insert(name, value)),
                Err(_) => skipped += 1,
            }
        }
        if skipped > 0 {
            let note = format!("{shown}: {skipped} line(s) are not NAME=value and were skipped");
            file.notes.push(note);
        }
        file
    }
}

const TOO_LARGE: &str = "is over 1 MiB, too large for a settings file";

/// All of `reader` as UTF-8, if it holds at most the bound. The bound is on what is read, not
/// on the size the file reports: a file can grow after its size was read, and some (procfs)
/// report 0 whatever they hold.
fn read_bounded(reader: impl Read) -> Result<String, &'static str> {
    let mut bytes = Vec::new();
    let read = reader.take(MAX_ENV_FILE_BYTES + 1).read_to_end(&mut bytes);
    read.map_err(|_| "cannot be read")?;
    if bytes.len() as u64 > MAX_ENV_FILE_BYTES {
        return Err(TOO_LARGE);
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text")
}

#[cfg(test)]
pub(crate) mod tests;
