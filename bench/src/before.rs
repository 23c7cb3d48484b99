//! The app as it was at an older commit, built from a git worktree of that commit, so a section
//! can run it side by side with the app from the working tree in the same run. Each section
//! names its own commit: the billing section (`billed.rs`) the last commit before the sorted
//! set, the after_response section (`after_response.rs`) the last commit before that crate.
//!
//! The worktree of commit C is `<target>/bench/before-C` and it builds into its own target
//! directory, `<target>/bench/before-C-target`: two checkouts of the same workspace sharing one
//! would overwrite each other's artifacts. Both are made on first use and reused after (Cargo
//! then has nothing to rebuild); the first build is a whole release build, minutes long.

use crate::layout::{Result, cmd, out_dir};
use std::path::PathBuf;
use std::process::Command;

/// Makes (or reuses) the worktree of `commit`, builds its `main` in release, and returns that
/// binary.
pub fn main_binary(commit: &str) -> Result<PathBuf> {
    let out = out_dir()?;
    let tree = out.join(format!("before-{commit}"));
    let target = out.join(format!("before-{commit}-target"));
    let wanted = git(cmd("git", &["rev-parse", &format!("{commit}^{{commit}}")]))?;
    if !tree.join("Cargo.toml").is_file() {
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let path = tree.to_string_lossy();
        git(cmd("git", &["worktree", "add", "--detach", &path, commit]))?;
    }
    let mut head = Command::new("git");
    head.args(["rev-parse", "HEAD"]).current_dir(&tree);
    let head = git(head)?;
    if head != wanted {
        return Err(format!(
            "{} is at {head}, not {commit}; remove it (git worktree remove --force {0}) and run again",
            tree.display()
        ));
    }
    println!(
        "building the app at {commit} in {} (target {})",
        tree.display(),
        target.display()
    );
    let built = Command::new("cargo")
        .args(["build", "--release", "-p", "wait-until", "--bin", "main"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&tree)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err(format!("building the app at {commit} failed ({built})"));
    }
    Ok(target.join("release").join("main"))
}

/// `git …`'s trimmed output, or what went wrong.
fn git(mut command: Command) -> Result<String> {
    let output = command.output().map_err(|e| format!("git: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The commit the working tree is at, and whether the app's sources differ from it: what "ours"
/// (built from the working tree) is.
pub fn working_tree() -> String {
    let head = git(cmd("git", &["rev-parse", "--short", "HEAD"])).unwrap_or_default();
    let changed = git(cmd(
        "git",
        &[
            "status",
            "--porcelain",
            "--",
            "src",
            "api",
            "after_response",
            "bundled",
            "macros",
            "public",
            "build.rs",
            "Cargo.toml",
            "Cargo.lock",
        ],
    ))
    .unwrap_or_default();
    if changed.is_empty() {
        format!("{head}, app sources unmodified")
    } else {
        format!(
            "{head} with uncommitted changes to {}",
            changed
                .lines()
                .filter_map(|l| l.split_whitespace().last())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}
