//! Reading `.env.local`: what `vercel env pull .env.local` writes, or a copy of `.env.example`.
//! A file that is missing is fine; one that is partly unreadable must not stop start-up or be
//! skipped without a word.

use std::collections::HashMap;
use std::path::Path;

/// The variables `path` sets, and a note for each problem met. Lines that are not `NAME=value`
/// are skipped and counted (never shown: a line may hold a token). Reading stops at the first
/// read error, which dotenvy would otherwise report again for every call (a directory named
/// `.env.local` would loop forever).
pub fn read(path: &Path) -> (HashMap<String, String>, Vec<String>) {
    let shown = path.display();
    let mut vars = HashMap::new();
    let mut notes = Vec::new();
    let entries = match dotenvy::from_path_iter(path) {
        Ok(entries) => entries,
        Err(error) if error.not_found() => return (vars, notes),
        Err(_) => {
            notes.push(format!("{shown} cannot be read: its settings are not used"));
            return (vars, notes);
        }
    };
    let mut skipped = 0;
    for entry in entries {
        match entry {
            Ok((name, value)) => {
                vars.insert(name, value);
            }
            Err(dotenvy::Error::LineParse(..)) => skipped += 1,
            Err(_) => {
                notes.push(format!(
                    "{shown} could not be read to the end: only the settings before that are used"
                ));
                break;
            }
        }
    }
    if skipped > 0 {
        notes.push(format!(
            "{shown}: {skipped} line(s) are not NAME=value and were skipped"
        ));
    }
    (vars, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("env-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_missing_file_is_nothing_to_say() {
        let (vars, notes) = read(&scratch("missing").join(".env.local"));
        assert!(vars.is_empty() && notes.is_empty(), "{notes:?}");
    }

    #[test]
    fn lines_that_are_not_settings_are_skipped_counted_and_never_shown() {
        let path = scratch("malformed").join(".env.local");
        let text = "# a comment\nKV_REST_API_URL=\"https://x\"\nnot a s3cret setting\n\
                    KV_REST_API_TOKEN='w'\n=s3cret\n";
        std::fs::write(&path, text).unwrap();
        let (vars, notes) = read(&path);
        assert_eq!(vars["KV_REST_API_URL"], "https://x");
        assert_eq!(vars["KV_REST_API_TOKEN"], "w");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].ends_with("2 line(s) are not NAME=value and were skipped"),
            "{notes:?}"
        );
        assert!(!notes[0].contains("s3cret"), "{notes:?}");
    }

    #[test]
    fn a_directory_in_its_place_is_reported_not_read_forever() {
        let path = scratch("directory").join(".env.local");
        std::fs::create_dir_all(&path).unwrap();
        let (vars, notes) = read(&path);
        assert!(vars.is_empty());
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn bytes_that_are_not_utf8_stop_the_reading_with_a_note() {
        let path = scratch("binary").join(".env.local");
        std::fs::write(
            &path,
            b"KV_REST_API_URL=https://x\nKV_REST_API_TOKEN=\xff\xfe\n",
        )
        .unwrap();
        let (vars, notes) = read(&path);
        assert_eq!(vars["KV_REST_API_URL"], "https://x");
        assert!(!vars.contains_key("KV_REST_API_TOKEN"));
        assert_eq!(notes.len(), 1, "{notes:?}");
    }
}
