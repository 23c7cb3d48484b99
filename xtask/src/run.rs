//! Running commands from the workspace root, with the command echoed and failures explained.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
pub use testkit::workspace_root as root;

/// Cargo's target directory, as `cargo metadata` reports it: `CARGO_TARGET_DIR`, a
/// `build.target-dir` setting, or `<root>/target`. Everything built or written by a check goes
/// under it, never under a hard-coded `target/`.
pub fn target_dir() -> Result<PathBuf> {
    static TARGET: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let output = cmd("cargo", &["metadata", "--format-version", "1", "--no-deps"])
                .output()
                .map_err(|e| format!("cannot run `cargo metadata`: {e}"))?;
            if !output.status.success() {
                return Err(format!(
                    "`cargo metadata` failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
                .map_err(|e| format!("`cargo metadata` printed no JSON: {e}"))?;
            metadata["target_directory"]
                .as_str()
                .map(PathBuf::from)
                .ok_or_else(|| "`cargo metadata` names no target_directory".to_string())
        })
        .clone()
}

/// A command that runs in the workspace root.
pub fn cmd(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args).current_dir(root());
    command
}

/// Runs `command`, printing it first; a non-zero exit is an error naming the command.
pub fn status(command: &mut Command) -> Result {
    let shown = format!("{command:?}").replace('"', "");
    println!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Whether `program` is on the PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}
