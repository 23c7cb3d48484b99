//! `cargo xtask mutants [ARGS]`: mutation testing of the domain modules with cargo-mutants, as
//! `.cargo/mutants.toml` configures it. Not part of `test`: it rebuilds and reruns the unit
//! tests once per mutant, which takes many minutes.
//!
//! - cargo-mutants is installed from the registry when missing, at the version the results in
//!   BENCHMARKS.md were measured with (another version may make other mutants).
//! - Mutants build in a copy of the tree, one at a time, in a target directory of their own
//!   (`<target>/mutants`) kept between runs, so the dependencies are built once: quickest for
//!   a file or two. Parallel copies cannot share it: cargo names a workspace's artifacts by
//!   paths relative to its root, so they would overwrite each other's builds, and a mutant
//!   could be tested on another's binary and wrongly reported as missed. With `--jobs N` each
//!   copy builds in its own target directory instead: the dependencies are built once per copy
//!   and per run, which pays off for a full run on two cores or more.
//! - The report goes to `<target>/mutants.out`. The run fails when a mutant survives
//!   (`missed.txt`) or hangs past its timeout (`timeout.txt`).
//! - ARGS go to cargo-mutants as they are: `--re src/record.rs` for one file (not `-f`, which
//!   adds to the configuration's files instead of narrowing them), `--list` to see
//!   what would be tried.

use crate::run::{Result, cmd, on_path, root, status, target_dir};

/// The cargo-mutants release the configuration and the recorded results are for.
const VERSION: &str = "27.1.0";
/// The configuration: what is mutated, how it is tested, what is excluded and why.
pub const CONFIG: &str = ".cargo/mutants.toml";

pub fn run() -> Result {
    let config = std::fs::read_to_string(root().join(CONFIG))
        .map_err(|e| format!("cannot read {CONFIG}: {e}"))?;
    check_exclusions(&config)?;
    if !on_path("cargo-mutants") {
        status(&mut cmd(
            "cargo",
            &["install", "--locked", "cargo-mutants", "--version", VERSION],
        ))?;
    }
    let target = target_dir()?;
    let extra: Vec<String> = std::env::args().skip(2).collect();
    // `--workspace`: the configuration's files are in more than one package (the app's library
    // and `bundled_api`); each mutant is tested by its own package's tests.
    let mut command = cmd("cargo", &["mutants", "--workspace", "--output"]);
    command.arg(&target).args(&extra);
    if !asks_for_jobs(&extra) {
        command
            .args(["--jobs", "1"])
            .env("CARGO_TARGET_DIR", target.join("mutants"));
    }
    status(&mut command)
}

/// Whether the caller chose the number of jobs (`--jobs N`, `-j N`, `-jN`, `--jobs=N`): then
/// each copy builds in a target directory of its own, inside the copy.
fn asks_for_jobs(args: &[String]) -> bool {
    args.iter()
        .any(|arg| arg == "--jobs" || arg.starts_with("--jobs=") || arg.starts_with("-j"))
}

/// Every exclusion in the configuration has a comment of its own on the line above it: a
/// mutant is never excluded without its reason.
fn check_exclusions(config: &str) -> Result {
    let lines: Vec<&str> = config.lines().map(str::trim).collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("exclude_re")) else {
        return Ok(());
    };
    let mut previous = "";
    for line in &lines[start + 1..] {
        if line.starts_with(']') {
            return Ok(());
        }
        if line.starts_with('"') && !previous.starts_with('#') {
            return Err(format!(
                "{CONFIG}: the exclusion {line} has no reason: say why on the line above it"
            ));
        }
        previous = line;
    }
    Err(format!("{CONFIG}: exclude_re is not closed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_configuration_gives_a_reason_for_every_exclusion() {
        let config = std::fs::read_to_string(root().join(CONFIG)).unwrap();
        assert_eq!(check_exclusions(&config), Ok(()));
    }

    #[test]
    fn a_chosen_number_of_jobs_is_seen_in_any_spelling() {
        for args in [&["--jobs", "2"][..], &["--jobs=2"], &["-j", "2"], &["-j2"]] {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            assert!(asks_for_jobs(&args), "{args:?}");
        }
        let args = ["-f".to_string(), "src/record.rs".to_string()];
        assert!(!asks_for_jobs(&args));
    }

    #[test]
    fn an_exclusion_without_a_reason_is_refused() {
        let config = "exclude_re = [\n    # why\n    \"a\",\n    \"b\",\n]\n";
        let error = check_exclusions(config).unwrap_err();
        assert!(error.contains(r#""b","#), "{error}");
        let config = "exclude_re = [\n    # why\n    \"a\",\n    # and why\n    \"b\",\n]\n";
        assert_eq!(check_exclusions(config), Ok(()));
    }
}
