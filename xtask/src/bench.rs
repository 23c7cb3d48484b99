//! `cargo xtask bench [WORD]`: provisions what the benchmarks need, builds the measured
//! binaries in release, then runs the `bench` crate's runner (see `bench/src/main.rs`), which
//! measures the binaries next to it and writes `<target>/bench/report.md`. Two sections also
//! measure the app as it was at an older commit (billing: before the sorted set; section 10:
//! before `after_response`): each builds it itself, on first use, from a git worktree of that
//! commit with its own target directory (`bench/src/before.rs`), so a run without those
//! sections never waits for them.

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
