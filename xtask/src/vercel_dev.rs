//! `cargo xtask vercel-dev`: the pinned CLI's own `vercel dev --local` on a copy of the project,
//! driven by `tests/js/vercel-dev.test.mjs`: every route, a fire that later processes read, the
//! page in headless Chromium, and every process the CLI started stopped at the end.
//!
//! The copy (`<target dir>/vercel-dev/project`, the files git would commit) keeps its own
//! `target/`, where the CLI builds the function: the work tree is never written, and a warm run
//! compiles nothing.

use crate::run::{Result, target_dir};
use crate::vercel_build::{lock, project, tools};
use std::fs::File;
use std::path::PathBuf;

/// The suite's file, from the workspace root.
pub const SUITE: &str = "tests/js/vercel-dev.test.mjs";

/// What the suite needs, ready; runs of it wait for each other while this is held.
pub struct Prepared {
    pub cli: PathBuf,
    pub project: PathBuf,
    _lock: File,
}

impl Prepared {
    /// The variables that point the suite at the CLI and the copy.
    pub fn env(&self) -> [(&'static str, &PathBuf); 2] {
        [
            ("VERCEL_CLI", &self.cli),
            ("VERCEL_DEV_PROJECT", &self.project),
        ]
    }
}

pub fn prepare() -> Result<Prepared> {
    let check = target_dir()?.join("vercel-dev");
    let lock = lock(&check)?;
    let cli = tools::vercel_cli()?;
    let project = check.join("project");
    project::sync(&project, &[])?;
    Ok(Prepared {
        cli,
        project,
        _lock: lock,
    })
}

pub fn run() -> Result {
    crate::provision::all()?;
    crate::test::node_suites(&[SUITE])
}
