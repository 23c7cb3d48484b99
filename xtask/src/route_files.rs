//! Route files are modules that only `#[bundled_api]` declares, so `cargo fmt` never reaches
//! them (it follows the `mod` items it can see). This hands them to rustfmt directly.

use crate::run::{Result, cmd, root, status};
use std::path::{Path, PathBuf};

/// The `api/` folders holding route files: the app's, the example project's and the template's.
const API_DIRS: [&str; 3] = ["api", "examples/routes/api", "template/api"];

/// `rustfmt --check` on every `.rs` file under [`API_DIRS`], with the edition the crates use.
pub fn fmt_check() -> Result {
    let mut files = Vec::new();
    for dir in API_DIRS {
        collect(&root().join(dir), &mut files)?;
    }
    if files.is_empty() {
        return Err(format!("no route files under {API_DIRS:?}"));
    }
    files.sort();
    let mut args = vec!["--check".to_string(), "--edition".into(), "2024".into()];
    args.extend(files.iter().map(|file| file.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    status(&mut cmd("rustfmt", &args))
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            collect(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}
