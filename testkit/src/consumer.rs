//! The example project `examples/routes/`: a project of its own (its own workspace, lock file
//! and profiles) that depends on `bundled_api` by path, as a user's project would. `cargo xtask
//! test` builds, lints and tests it; `tests/it/consumer.rs` builds it again (a no-op after the
//! xtask) and probes its binary. Both go through [`cargo`], so they share one target directory
//! and one way of calling Cargo.

use std::path::PathBuf;
use std::process::Command;

/// Its manifest, from the workspace root.
pub const MANIFEST: &str = "examples/routes/Cargo.toml";

/// Its function's binary (the `[[bin]]` of its manifest).
pub const BINARY: &str = "example-routes";

/// Where it builds: `<target>/consumer`. A directory of its own because an outer `cargo test`
/// holds the lock on the workspace's (a nested build there would wait for ever), and because
/// its lock file is its own: sharing would rebuild crates back and forth.
pub fn target_dir() -> Result<PathBuf, String> {
    Ok(crate::target_dir()?.join("consumer"))
}

/// Its debug binary, where `cargo build` leaves it.
pub fn binary() -> Result<PathBuf, String> {
    Ok(target_dir()?.join("debug").join(BINARY))
}

/// `cargo <args…> --manifest-path examples/routes/Cargo.toml`, from the workspace root, into
/// [`target_dir`]. The caller may add more, such as clippy's `-- -D warnings`.
pub fn cargo(args: &[&str]) -> Result<Command, String> {
    let mut command = crate::cargo();
    command
        .args(args)
        .args(["--manifest-path", MANIFEST])
        .current_dir(crate::workspace_root())
        .env("CARGO_TARGET_DIR", target_dir()?);
    Ok(command)
}
