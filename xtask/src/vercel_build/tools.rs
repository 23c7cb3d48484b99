//! What `vercel build` needs for a Rust function, installed when missing: the Vercel CLI
//! (pinned in `tools/vercel`), `cargo-zigbuild` and zig (which it finds as `python3 -m ziglang`).

use crate::run::{Result, cmd, on_path, root, status};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const CLI_DIR: &str = "tools/vercel";

pub fn vercel_cli() -> PathBuf {
    root().join(CLI_DIR).join("node_modules/.bin/vercel")
}

pub fn install() -> Result {
    if !vercel_cli().is_file() {
        // Not `npm ci`: the CLI's optional per-platform packages (`@vercel/vc-native-*`) are not
        // all served at 64.0.2 by the registry this machine reaches, so the lockfile lacks them
        // and `npm ci` refuses it as out of sync. `npm install --no-save` installs exactly the
        // locked versions and leaves the lockfile untouched.
        status(&mut cmd(
            "npm",
            &[
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                CLI_DIR,
            ],
        ))?;
    }
    if !on_path("cargo-zigbuild") {
        status(&mut cmd(
            "cargo",
            &[
                "install",
                "cargo-zigbuild",
                "--locked",
                "--version",
                "0.24.1",
            ],
        ))?;
    }
    let zig = Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !zig.is_ok_and(|s| s.success()) {
        status(&mut cmd(
            "python3",
            &["-m", "pip", "install", "--quiet", "ziglang==0.17.1"],
        ))?;
    }
    Ok(())
}
