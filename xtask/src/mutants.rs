//! `cargo xtask mutants [ARGS]`: mutation testing of the domain modules with cargo-mutants, as
//! `.cargo/mutants.toml` configures it. Not part of `test`: it rebuilds and reruns the unit
//! tests once per mutant, which takes many minutes.
//!
//! - cargo-mutants is installed from the registry when missing, at the version the results in
//!   BENCHMARKS.md were measured with (another version may make other mutants).
//! - Mutants build in a copy of the tree, one at a time, in a target directory of their own
//!   (`<target>/mutants`) kept between runs, so the dependencies are built once. One job, not
//!   several: cargo names a workspace's artifacts by paths relative to its root, so parallel
//!   copies sharing a target directory overwrite each other's builds and a mutant can be
//!   tested on another's binary (or on none) and wrongly reported as missed.
//! - The report goes to `<target>/mutants.out`. The run fails when a mutant survives
//!   (`missed.txt`) or hangs past its timeout (`timeout.txt`).
//! - ARGS go to cargo-mutants as they are: `-f src/record.rs` for one file, `--list` to see
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
    let mut command = cmd("cargo", &["mutants", "--jobs", "1"]);
    command
        .arg("--output")
        .arg(&target)
        .args(std::env::args().skip(2))
        .env("CARGO_TARGET_DIR", target.join("mutants"));
    status(&mut command)
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
    fn an_exclusion_without_a_reason_is_refused() {
        let config = "exclude_re = [\n    # why\n    \"a\",\n    \"b\",\n]\n";
        let error = check_exclusions(config).unwrap_err();
        assert!(error.contains(r#""b","#), "{error}");
        let config = "exclude_re = [\n    # why\n    \"a\",\n    # and why\n    \"b\",\n]\n";
        assert_eq!(check_exclusions(config), Ok(()));
    }
}
