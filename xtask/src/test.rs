//! `cargo xtask test`: every check, in the order that fails fastest. What the checks need is
//! installed by `provision` first; everything after that only checks.

use crate::provision;
use crate::run::{Result, cmd, root, status, target_dir};
use testkit::consumer::Project;

pub fn run() -> Result {
    status(&mut cmd("cargo", &["fmt", "--all", "--check"]))?;
    crate::route_files::fmt_check()?;
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
    // The published crates as a user gets them; quick, and independent of what provision installs.
    crate::package::run()?;
    provision::all()?;
    status(&mut cmd("cargo", &["build", "--bin", "main"]))?;
    // After provision: rendering the template needs cargo-generate.
    for project in [Project::example(), Project::template()?] {
        check_project(&project)?;
    }
    status(&mut cmd("cargo", &["test", "--workspace"]))?;
    all_node_suites()?;
    // Last: the slowest check (a release cross-build), and it needs the rest to be right.
    crate::vercel_build::run()
}

/// A project of its own (the example, the rendered template), which `--workspace` does not
/// reach: formatted, linted, built and tested as its users would. Built here, so that the same
/// build inside `tests/it/consumer.rs`, which then starts the binary, finds it done.
fn check_project(project: &Project) -> Result {
    status(&mut project.cargo(&["fmt", "--check"])?)?;
    status(
        project
            .cargo(&["clippy", "--all-targets"])?
            .args(["--", "-D", "warnings"]),
    )?;
    status(&mut project.cargo(&["build"])?)?;
    status(&mut project.cargo(&["test"])?)
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
