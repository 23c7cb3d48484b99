//! `cargo xtask package`: `bundled_api`, `bundled_api_macros` and `after_response` as `cargo publish` would upload
//! them, checked the way a user meets them: the build-script feature set is lint-clean, the docs
//! build without a warning, each package holds its README and LICENSE, packaging warns of
//! nothing, and each package builds and passes its own tests and doctests from its unpacked
//! files alone (`bundled_api` against the packaged macros crate).

use crate::run::{Result, cmd, status, target_dir};
use std::path::PathBuf;
use std::process::Command;

/// In publishing order: `bundled_api` depends on the exact version of `bundled_api_macros`;
/// `after_response` stands alone.
const CRATES: [&str; 3] = ["bundled_api_macros", "bundled_api", "after_response"];

/// What every package must ship besides its code.
const SHIPPED: [&str; 2] = ["README.md", "LICENSE"];

pub fn run() -> Result {
    let selected: Vec<&str> = CRATES.iter().flat_map(|name| ["-p", name]).collect();

    // A build script's view of the crate (`default-features = false`: only `build`) stays clean.
    status(&mut cmd(
        "cargo",
        &[
            "clippy",
            "-p",
            "bundled_api",
            "--no-default-features",
            "--lib",
            "--",
            "-D",
            "warnings",
        ],
    ))?;

    // ... and its tests and doctests pass, as a packager testing each feature set would run them.
    status(&mut cmd(
        "cargo",
        &["test", "-p", "bundled_api", "--no-default-features"],
    ))?;

    let mut doc = vec!["doc", "--no-deps"];
    doc.extend(&selected);
    // Broken intra-doc links and malformed docs fail here, not on docs.rs.
    status(cmd("cargo", &doc).env("RUSTDOCFLAGS", "-D warnings"))?;

    // `--allow-dirty` so a change can be checked before it is committed; CI runs on a clean clone.
    // `--offline`: the lints above fetched every dependency; packaging needs nothing new.
    let mut list = vec!["package", "--list", "--allow-dirty", "--offline"];
    list.extend(&selected);
    check_listing(&without_warnings(&list)?)?;

    let mut package = vec!["package", "--allow-dirty", "--offline"];
    package.extend(&selected);
    without_warnings(&package)?;

    // `cargo package` verifies by building each library only: the tests and doctests, and the
    // files they need (`api/` for the doctests, `tests/support/`), are proven here, from the
    // unpacked packages. `bundled_api_macros` is not on the registry yet, so the packaged one
    // stands in for it.
    let target = target_dir()?;
    let unpacked = |name: &str| -> Result<PathBuf> {
        Ok(target
            .join("package")
            .join(format!("{name}-{}", version_of(name)?)))
    };
    let macros = unpacked("bundled_api_macros")?;
    let patch = format!(
        "patch.crates-io.bundled_api_macros.path={:?}",
        macros.display().to_string()
    );
    for (dir, args) in [
        (macros.clone(), vec!["test", "--offline"]),
        (
            unpacked("bundled_api")?,
            vec!["test", "--offline", "--config", &patch],
        ),
        (unpacked("after_response")?, vec!["test", "--offline"]),
    ] {
        status(
            Command::new("cargo")
                .args(args)
                .current_dir(&dir)
                // The workspace's target directory: the dependencies are already built there.
                .env("CARGO_TARGET_DIR", &target),
        )?;
    }
    Ok(())
}

/// Runs `cargo <args>`, shows its stderr, and returns its stdout; a failure, or any warning
/// (a file left out of a package, a manifest key Cargo ignores), is an error.
fn without_warnings(args: &[&str]) -> Result<String> {
    let shown = format!("cargo {}", args.join(" "));
    println!("$ {shown}");
    let output = cmd("cargo", args)
        .output()
        .map_err(|e| format!("could not run `{shown}`: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprint!("{stderr}");
    if !output.status.success() {
        return Err(format!("`{shown}` failed ({})", output.status));
    }
    if let Some(warning) = stderr.lines().find(|line| line.starts_with("warning")) {
        return Err(format!("`{shown}` warned: {warning}"));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The version of workspace package `name`, as `cargo metadata` reads it from its manifest.
fn version_of(name: &str) -> Result<String> {
    testkit::metadata()?["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == name)
        .and_then(|package| package["version"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| format!("`cargo metadata` lists no package {name}"))
}

/// `cargo package --list` prints the files of each package one list after the other: each of
/// [`SHIPPED`] must appear once per package.
fn check_listing(listing: &str) -> Result {
    let files: Vec<&str> = listing.lines().map(str::trim).collect();
    for file in SHIPPED {
        let copies = files.iter().filter(|listed| **listed == file).count();
        if copies != CRATES.len() {
            return Err(format!(
                "{file} is in {copies} of the {} packages: every crate must ship one",
                CRATES.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_without_its_license_is_refused() {
        let whole = "Cargo.toml\nLICENSE\nREADME.md\nsrc/lib.rs\n";
        let all = whole.repeat(3);
        assert_eq!(check_listing(&all), Ok(()));
        let one_license = format!("{}Cargo.toml\nREADME.md\n", whole.repeat(2));
        let error = check_listing(&one_license).unwrap_err();
        assert!(
            error.starts_with("LICENSE is in 2 of the 3 packages"),
            "{error}"
        );
    }
}
