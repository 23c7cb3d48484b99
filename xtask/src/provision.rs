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

/// A Debian package the tests need, and how to tell it is there.
struct Need {
    package: &'static str,
    present: fn() -> bool,
}

/// redis-server for the storage tests; Chromium and a colour emoji font (for the flags) for the
/// browser tests and their screenshots.
const NEEDS: &[Need] = &[
    Need {
        package: "redis-server",
        present: || on_path("redis-server") && on_path("redis-cli"),
    },
    Need {
        package: "chromium",
        present: || on_path("chromium"),
    },
    Need {
        package: "fonts-noto-color-emoji",
        present: || {
            std::path::Path::new("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf").is_file()
        },
    },
];

pub fn debian_packages() -> Result {
    let missing: Vec<&str> = NEEDS
        .iter()
        .filter(|need| !(need.present)())
        .map(|need| need.package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing Debian packages: {}", missing.join(" "));
    status(cmd("apt-get", &["update", "-qq"]).env("DEBIAN_FRONTEND", "noninteractive"))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&missing);
    status(cmd("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))?;
    match NEEDS.iter().find(|need| !(need.present)()) {
        Some(need) => Err(format!(
            "{} is still missing after apt-get install",
            need.package
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
