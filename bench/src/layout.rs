//! Where things are. The binaries measured are the ones built next to this executable (the
//! profile folder, `<target>/release`), and logs and the report go to `<target>/bench`, so the
//! bench follows Cargo's target directory wherever it is (`CARGO_TARGET_DIR` included).

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The binaries of the workspace this bench measures.
pub const BINARIES: &[&str] = &["main", "hello", "official_baseline", "awaited_write"];

/// The folder of this executable: where Cargo put the binaries of the same build.
pub fn profile_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    exe.parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} has no folder", exe.display()))
}

/// `<target>/bench`: raw logs (`logs/`) and the report (`report.md`).
pub fn out_dir() -> Result<PathBuf> {
    let profile = profile_dir()?;
    let target = profile.parent().unwrap_or(&profile);
    Ok(target.join("bench"))
}

/// A binary built beside this one.
pub fn binary(name: &str) -> Result<PathBuf> {
    Ok(profile_dir()?.join(name))
}

/// Fails unless this is a release build with every measured binary beside it: measuring debug
/// builds, or a stale binary from another build, would give numbers that mean nothing.
pub fn check_binaries() -> Result {
    if cfg!(debug_assertions) {
        return Err(
            "this is a debug build; run `cargo xtask bench`, which builds the \
                    release binaries and runs the release bench"
                .into(),
        );
    }
    let missing: Vec<&str> = BINARIES
        .iter()
        .copied()
        .filter(|name| !binary(name).is_ok_and(|path| path.is_file()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not built beside {}: {}; run `cargo xtask bench`, which builds them",
            profile_dir()?.display(),
            missing.join(", ")
        ))
    }
}

/// A command that runs in the workspace root.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(testkit::workspace_root());
    command
}
