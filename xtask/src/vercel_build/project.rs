//! The copy of the project that `vercel build` runs in, so the work tree is never written, even
//! when the check fails.
//!
//! - It holds exactly the files git would commit from the work tree (tracked, and untracked but
//!   not ignored), plus the extra files asked for; every other file is removed.
//! - A file is written only when its content differs: Cargo decides by modification time, so it
//!   rebuilds only what changed, and a warm run compiles nothing.
//! - `target/` and `.vercel/` are the build's own and are kept; `target/` is a real folder inside
//!   the copy, because `vercel deploy --prebuilt` refuses a function file outside the project.

use crate::run::{Result, root};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Folders of the copy that belong to the build, not to the project.
const KEPT: [&str; 2] = ["target", ".vercel"];

/// Makes `project` the work tree's files plus `extra` (path, content); an extra file may not
/// shadow a project file.
pub fn sync(project: &Path, extra: &[(&str, &str)]) -> Result {
    let mut wanted = HashSet::new();
    for relative in project_files()? {
        let from = root().join(&relative);
        let bytes = std::fs::read(&from).map_err(|e| format!("cannot read {from:?}: {e}"))?;
        write_if_changed(&project.join(&relative), &bytes)?;
        wanted.insert(relative);
    }
    for (relative, text) in extra {
        if !wanted.insert(PathBuf::from(relative)) {
            return Err(format!(
                "{relative} is a project file: the check needs that name"
            ));
        }
        write_if_changed(&project.join(relative), text.as_bytes())?;
    }
    prune(project, project, &wanted)
}

/// What git would commit: tracked and untracked-but-not-ignored files that exist.
fn project_files() -> Result<Vec<PathBuf>> {
    let listing = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !listing.status.success() {
        return Err("git ls-files failed: vercel-build needs a git checkout".into());
    }
    let mut files = Vec::new();
    for name in listing.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let relative = std::str::from_utf8(name).map_err(|_| "a file name is not UTF-8")?;
        // Deleted in the work tree but still in the index: not part of the project any more.
        if root().join(relative).is_file() {
            files.push(PathBuf::from(relative));
        }
    }
    Ok(files)
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("a file in the copy has a folder"))
        .and_then(|()| std::fs::write(path, bytes))
        .map_err(|e| format!("cannot write {path:?}: {e}"))
}

/// Removes every file under `dir` that is not `wanted`, and the folders that leaves empty.
fn prune(project: &Path, dir: &Path, wanted: &HashSet<PathBuf>) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list {dir:?}: {e}"))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {dir:?}: {e}"))?
            .path();
        let relative = path.strip_prefix(project).expect("under the project");
        if dir == project && KEPT.iter().any(|kept| relative == Path::new(kept)) {
            continue;
        }
        let removed = if path.is_dir() && !path.is_symlink() {
            prune(project, &path, wanted)?;
            // Fails (and is left alone) when something wanted is still inside.
            let _ = std::fs::remove_dir(&path);
            Ok(())
        } else if wanted.contains(relative) {
            Ok(())
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| format!("cannot remove {path:?}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_wanted_files_stay_and_unchanged_files_keep_their_time() {
        let dir = std::env::temp_dir().join(format!("xtask-prune-{}", std::process::id()));
        let keep = dir.join("api/keep.rs");
        write_if_changed(&keep, b"same").unwrap();
        write_if_changed(&dir.join("api/gone/old.rs"), b"old").unwrap();
        write_if_changed(&dir.join("target/release/main"), b"built").unwrap();
        let before = std::fs::metadata(&keep).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));

        write_if_changed(&keep, b"same").unwrap();
        let wanted = HashSet::from([PathBuf::from("api/keep.rs")]);
        prune(&dir, &dir, &wanted).unwrap();

        assert_eq!(
            std::fs::metadata(&keep).unwrap().modified().unwrap(),
            before
        );
        assert!(!dir.join("api/gone").exists(), "an emptied folder goes too");
        assert!(
            dir.join("target/release/main").is_file(),
            "the build's folders stay"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
