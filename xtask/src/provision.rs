//! Installs what the test suites need, when it is missing, from the package registries.
//!
//! CI runs on a fresh Debian machine as root: nothing is there unless this installs it.

use crate::run::{Result, cmd, on_path, root, status};

/// The npm packages the node-side tests use (the Upstash emulator, the official Upstash client,
/// playwright-core), pinned by `tests/js/package-lock.json`.
pub const JS_DIR: &str = "tests/js";

pub fn all() -> Result {
    debian_packages()?;
    npm_packages()
}

/// redis-server for the storage tests, Chromium for the browser tests.
pub fn debian_packages() -> Result {
    let wanted = [("redis-server", "redis-server"), ("chromium", "chromium")];
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(binary, _)| !on_path(binary))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing Debian packages: {}", missing.join(" "));
    status(cmd("apt-get", &["update", "-qq"]).env("DEBIAN_FRONTEND", "noninteractive"))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    status(cmd("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))?;
    match wanted.iter().find(|(binary, _)| !on_path(binary)) {
        Some((binary, _)) => Err(format!(
            "{binary} is still not on the PATH after apt-get install"
        )),
        None => Ok(()),
    }
}

/// `npm ci` in tests/js when its node_modules is missing or older than the lockfile.
pub fn npm_packages() -> Result {
    let dir = root().join(JS_DIR);
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |path: &std::path::Path| path.metadata().and_then(|m| m.modified()).ok();
    if modified(&installed).is_some() && modified(&installed) >= modified(&lock) {
        return Ok(());
    }
    status(&mut cmd(
        "npm",
        &["ci", "--no-audit", "--no-fund", "--prefix", JS_DIR],
    ))
}
