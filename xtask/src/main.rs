//! Developer workflows, run as `cargo xtask <command>` (see `.cargo/config.toml`).
//!
//! Rust instead of shell scripts so they read the same and run the same on every machine.
//! `cargo xtask test` is the one command CI runs: it provisions what the tests need on a fresh
//! Debian machine (as root, from the package registries) and fails loudly when it cannot; no
//! suite is ever skipped because a tool is missing.

mod bench;
mod mutants;
mod package;
mod provision;
mod route_files;
mod run;
mod test;
mod vercel_build;
mod vercel_dev;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test           what CI runs: fmt, clippy, provision, every Rust test, the browser tests,
                 the vercel build check
  provision      install what the tests need when missing (apt-get on Debian as root;
                 elsewhere it lists what to install)
  vercel-build   run `vercel build` offline and verify the output it would deploy
  vercel-dev     run the pinned `vercel dev --local` on a copy of the project and drive it:
                 every route, records across its per-request processes, the page
  package        package bundled_api, bundled_api_macros and after_response as `cargo publish` would, and
                 verify them (docs without warnings, README and LICENSE, builds from the package)
  bench [WORD]   the benchmarks of BENCHMARKS.md, or those whose title holds WORD
                 (minutes; not part of test)
  mutants [ARGS] mutation testing of the domain modules (.cargo/mutants.toml); ARGS go to
                 cargo-mutants, e.g. `--re src/record.rs` (minutes; not part of test)";

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let result = match command.as_str() {
        "test" => test::run(),
        "provision" => provision::all(),
        "vercel-build" => vercel_build::run(),
        "vercel-dev" => vercel_dev::run(),
        "package" => package::run(),
        "bench" => bench::run(),
        "mutants" => mutants::run(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask {command}: {error}");
            ExitCode::FAILURE
        }
    }
}
