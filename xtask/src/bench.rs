//! `cargo xtask bench [WORD]`: provisions what the benchmarks need, builds the measured
//! binaries in release, then runs the `bench` crate's runner (see `bench/src/main.rs`), which
//! measures the binaries next to it and writes `<target>/bench/report.md`. The billing section
//! also measures the app as it was before the sorted set (the merge script): it builds that
//! itself, on first use, from a git worktree of the older commit with its own target directory
//! (`bench/src/before.rs`), so a run without that section never waits for it.

use crate::run::{Result, cmd, status};

pub fn run() -> Result {
    crate::provision::bench()?;
    status(&mut cmd(
        "cargo",
        &["build", "--release", "-p", "wait-until", "--bin", "main"],
    ))?;
    status(&mut cmd(
        "cargo",
        &["build", "--release", "-p", "bench", "--bins"],
    ))?;
    let mut args = vec!["run", "--release", "--quiet", "-p", "bench", "--"];
    let word = std::env::args().nth(2);
    args.extend(word.as_deref());
    status(&mut cmd("cargo", &args))
}
