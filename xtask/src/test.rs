//! `cargo xtask test`: every check, in the order that fails fastest. What the checks need is
//! installed by `provision` first; everything after that only checks.

use crate::provision;
use crate::run::{Result, cmd, root, status, target_dir};
use testkit::consumer;

pub fn run() -> Result {
    status(&mut cmd("cargo", &["fmt", "--all", "--check"]))?;
    crate::route_files::fmt_check()?;
    status(&mut consumer::cargo(&["fmt", "--check"])?)?;
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
    // The example project is a workspace of its own, which `--workspace` does not reach.
    status(
        consumer::cargo(&["clippy", "--locked", "--all-targets"])?.args(["--", "-D", "warnings"]),
    )?;
    // The published crates as a user gets them; quick, and independent of what provision installs.
    crate::package::run()?;
    provision::all()?;
    status(&mut cmd("cargo", &["build", "--bin", "main"]))?;
    build_and_test_consumer()?;
    status(&mut cmd("cargo", &["test", "--workspace"]))?;
    all_node_suites()?;
    // Last: the slowest check (a release cross-build), and it needs the rest to be right.
    crate::vercel_build::run()
}

/// The example project, built and tested as its users would (`--locked`: its committed lock
/// file must hold). Built here, so that the same build inside `tests/it/consumer.rs`, which
/// then starts the binary, finds it done.
fn build_and_test_consumer() -> Result {
    status(&mut consumer::cargo(&["build", "--locked"])?)?;
    status(&mut consumer::cargo(&["test", "--locked"])?)
}

/// The node-side suites (`tests/js/*.test.mjs`), one at a time: each starts its own binary (or
/// the Vercel CLI) and Chromium, and two cores are enough for one.
fn all_node_suites() -> Result {
    let mut files: Vec<String> = std::fs::read_dir(root().join(provision::JS_DIR))
        .map_err(|e| format!("cannot list {}: {e}", provision::JS_DIR))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("{}/{name}", provision::JS_DIR))
        .collect();
    if !files.iter().any(|file| file == crate::vercel_dev::SUITE) {
        return Err(format!("{} is missing", crate::vercel_dev::SUITE));
    }
    files.sort();
    node_suites(&files.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `files`, with what every suite may need: the built binary, Chromium, the Vercel CLI and the
/// project copy it runs in.
pub fn node_suites(files: &[&str]) -> Result {
    let chromium =
        provision::chromium().ok_or("Chromium is missing: run `cargo xtask provision`")?;
    let target = target_dir()?;
    let vercel_dev = crate::vercel_dev::prepare()?;
    let mut args = vec!["--test", "--test-concurrency=1"];
    args.extend(files);
    status(
        cmd("node", &args)
            .env("WAIT_UNTIL_BIN", target.join("debug/main"))
            .env("WAIT_UNTIL_ARTIFACTS", &target)
            .env("CHROMIUM", chromium)
            .envs(vercel_dev.env()),
    )
}
