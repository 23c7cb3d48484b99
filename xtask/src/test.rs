//! `cargo xtask test`: every check, in the order that fails fastest.

use crate::provision;
use crate::run::{Result, cmd, status};

pub fn run() -> Result {
    status(&mut cmd("cargo", &["fmt", "--all", "--check"]))?;
    status(&mut cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    ))?;
    provision::all()?;
    status(&mut cmd("cargo", &["build", "--bin", "main"]))?;
    status(&mut cmd("cargo", &["test", "--workspace"]))?;
    status(
        cmd(
            "node",
            &["--test", "--test-concurrency=1", provision::JS_DIR],
        )
        .env(
            "WAIT_UNTIL_BIN",
            crate::run::root().join("target/debug/main"),
        ),
    )
}
