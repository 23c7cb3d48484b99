//! Reading `.env.local`: what `vercel env pull .env.local` writes, or a copy of `.env.example`.
//! A missing file is fine. Anything else that keeps it from being read is said at start-up, and
//! nothing about it may stop start-up: a FIFO would block the open, `/dev/zero` would fill
//! memory, a directory would return the same read error forever.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Far above any real settings file; a larger one is not read at all.
pub const MAX_BYTES: u64 = 1 << 20;

/// What the file gave.
#[derive(Debug, Default)]
pub struct EnvFile {
    pub vars: HashMap<String, String>,
    pub notes: Vec<String>,
    /// Set when the file exists but could not be read (whole or in part): its settings may be
    /// missing, so falling back to the memory store would quietly lose records.
    pub problem: Option<String>,
}

/// The variables `path` sets. Lines that are not `NAME=value` are skipped and counted (never
/// shown: a line may hold a token). Values are read as dotenv files are: quotes and escapes
/// are undone, `$NAME` is expanded, and a repeated name keeps its last value.
pub fn read(path: &Path) -> EnvFile {
    let shown = path.display().to_string();
    let mut file = EnvFile::default();
    let text = match read_capped(path) {
        Ok(Some(text)) => text,
        Ok(None) => return file,
        Err(why) => {
            file.problem = Some(format!("{shown} {why}: fix or remove it"));
            return file;
        }
    };
    // Editors on Windows start a UTF-8 file with a byte order mark; it is not part of the name.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut skipped = 0;
    for entry in dotenvy::from_read_iter(text.as_bytes()) {
        match entry {
            Ok((name, value)) => {
                file.vars.insert(name, value);
            }
            Err(dotenvy::Error::LineParse(..)) => skipped += 1,
            // Reading from memory cannot fail, but a reader that did would report the same
            // error on every call: stop rather than loop.
            Err(_) => {
                file.problem = Some(format!("{shown} could not be read to the end"));
                break;
            }
        }
    }
    if skipped > 0 {
        file.notes.push(format!(
            "{shown}: {skipped} line(s) are not NAME=value and were skipped"
        ));
    }
    file
}

/// The file's text; `None` when there is no file. Only a regular file (after symlinks) of at
/// most [`MAX_BYTES`] of UTF-8 is read.
fn read_capped(path: &Path) -> Result<Option<String>, &'static str> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(_) => return Err("cannot be read"),
    };
    if !metadata.is_file() {
        return Err("is not a regular file");
    }
    if over_the_bound(metadata.len()) {
        return Err(TOO_LARGE);
    }
    let file = std::fs::File::open(path).map_err(|_| "cannot be read")?;
    read_bounded(file).map(Some)
}

/// All of `reader` as UTF-8 text, if it holds at most [`MAX_BYTES`]. Checked again on what is
/// read, not only on the file's size: a file can grow after its size was read, and some (procfs)
/// report a size of 0 whatever they hold. Reads one byte past the bound to tell.
fn read_bounded(reader: impl Read) -> Result<String, &'static str> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| "cannot be read")?;
    if over_the_bound(bytes.len() as u64) {
        return Err(TOO_LARGE);
    }
    String::from_utf8(bytes).map_err(|_| "is not UTF-8 text")
}

const TOO_LARGE: &str = "is over 1 MiB, too large for a settings file";

fn over_the_bound(bytes: u64) -> bool {
    bytes > MAX_BYTES
}

#[cfg(test)]
mod tests;
