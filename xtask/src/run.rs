//! Running commands from the workspace root, with the command echoed and failures explained.

use std::process::Command;

pub type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root.
pub use testkit::workspace_root as root;

/// Cargo's target directory (`cargo metadata`'s), where everything a check builds or writes
/// goes.
pub use testkit::target_dir;

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
