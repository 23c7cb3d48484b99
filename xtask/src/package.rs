//! `cargo xtask package`: `bundled_api` and `bundled_api_macros` as `cargo publish` would upload
//! them, checked the way a user meets them: the build-script feature set is lint-clean, the docs
//! build without a warning, each package holds its README and LICENSE, and each builds from its
//! package alone (`cargo package` verifies `bundled_api` against the packaged macros crate,
//! through a local registry).

use crate::run::{Result, cmd, status};

/// In publishing order: `bundled_api` depends on the exact version of `bundled_api_macros`.
const CRATES: [&str; 2] = ["bundled_api_macros", "bundled_api"];

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

    let mut doc = vec!["doc", "--no-deps"];
    doc.extend(&selected);
    // Broken intra-doc links and malformed docs fail here, not on docs.rs.
    status(cmd("cargo", &doc).env("RUSTDOCFLAGS", "-D warnings"))?;

    // `--allow-dirty` so a change can be checked before it is committed; CI runs on a clean clone.
    let mut list = vec!["package", "--list", "--allow-dirty"];
    list.extend(&selected);
    let output = cmd("cargo", &list)
        .output()
        .map_err(|e| format!("could not run `cargo package --list`: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo package --list` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    check_listing(&String::from_utf8_lossy(&output.stdout))?;

    let mut package = vec!["package", "--allow-dirty"];
    package.extend(&selected);
    status(&mut cmd("cargo", &package))
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
        let both = "Cargo.toml\nLICENSE\nREADME.md\nsrc/lib.rs\nCargo.toml\nLICENSE\nREADME.md\n";
        assert_eq!(check_listing(both), Ok(()));
        let one_license = "Cargo.toml\nLICENSE\nREADME.md\nsrc/lib.rs\nCargo.toml\nREADME.md\n";
        let error = check_listing(one_license).unwrap_err();
        assert!(
            error.starts_with("LICENSE is in 1 of the 2 packages"),
            "{error}"
        );
    }
}
