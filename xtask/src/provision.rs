//! `cargo xtask provision`: installs what the test suites need, when it is missing. Nothing here
//! runs a test; `cargo xtask test` calls this first and then only checks.
//!
//! - On Debian or Ubuntu as root (CI: a fresh machine with nothing on it) missing system
//!   packages come from the distribution's registry with `apt-get`.
//! - Anywhere else (macOS, Linux as a user) nothing is installed behind your back: the error
//!   names what is missing and the command that installs it, then you run this again.
//! - The npm packages of `tests/js` are installed with `npm ci` everywhere, and cargo-generate
//!   (which renders the template) with `cargo install`.

use crate::run::{Result, cmd, on_path, root, status};
use std::path::{Path, PathBuf};

/// The npm packages the node-side tests use (the Upstash emulator, the official Upstash client,
/// playwright-core), pinned by `tests/js/package-lock.json`.
pub const JS_DIR: &str = "tests/js";

pub fn all() -> Result {
    system_packages(NEEDS)?;
    npm_packages()?;
    cargo_generate()
}

/// What `cargo xtask bench` needs on top: the tests' tools, and wrk to load the servers.
pub fn bench() -> Result {
    all()?;
    system_packages(&[Need {
        what: "wrk",
        debian: "wrk",
        brew: "brew install wrk",
        present: || on_path("wrk"),
    }])
}

/// Something the tests need from the system, and how to tell it is there.
struct Need {
    what: &'static str,
    /// The Debian package, installed by `apt-get` when we may.
    debian: &'static str,
    /// What installs it on macOS with Homebrew.
    brew: &'static str,
    present: fn() -> bool,
}

/// redis-server for the storage tests; Chromium and a colour emoji font (for the flags) for the
/// browser tests and their screenshots; what building cargo-generate needs, when it is missing.
const NEEDS: &[Need] = &[
    Need {
        what: "redis-server and redis-cli",
        debian: "redis-server",
        brew: "brew install redis",
        present: || on_path("redis-server") && on_path("redis-cli"),
    },
    Need {
        what: "Chromium (or set CHROMIUM to a Chromium or Chrome executable)",
        debian: "chromium",
        brew: "brew install --cask chromium",
        present: || chromium().is_some(),
    },
    Need {
        what: "a colour emoji font",
        debian: "fonts-noto-color-emoji",
        brew: "(macOS has one)",
        present: || {
            cfg!(target_os = "macos")
                || Path::new("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf").is_file()
        },
    },
    Need {
        what: "pkg-config and OpenSSL's headers (cargo-generate's libgit2 links OpenSSL on Linux)",
        debian: "pkg-config libssl-dev",
        brew: "(macOS needs none)",
        present: || {
            cfg!(target_os = "macos")
                || on_path("cargo-generate")
                || (on_path("pkg-config") && Path::new("/usr/include/openssl/ssl.h").is_file())
        },
    },
];

/// The Chromium the browser tests drive: `CHROMIUM` when set, else `chromium` or
/// `chromium-browser` on the PATH, else the macOS application.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let on_path = ["chromium", "chromium-browser"]
        .into_iter()
        .find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        });
    on_path.or_else(|| {
        Some(PathBuf::from(
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
        ))
        .filter(|path| path.is_file())
    })
}

fn system_packages(needs: &[Need]) -> Result {
    let missing: Vec<&Need> = needs.iter().filter(|need| !(need.present)()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !(on_path("apt-get") && is_root()) {
        return Err(not_installed(&missing));
    }
    let packages: Vec<&str> = missing
        .iter()
        .flat_map(|need| need.debian.split_whitespace())
        .collect();
    println!("installing Debian packages: {}", packages.join(" "));
    status(cmd("apt-get", &["update", "-qq"]).env("DEBIAN_FRONTEND", "noninteractive"))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(&packages);
    status(cmd("apt-get", &args).env("DEBIAN_FRONTEND", "noninteractive"))?;
    match needs.iter().find(|need| !(need.present)()) {
        Some(need) => Err(format!(
            "{} is still missing after apt-get install {}",
            need.what, need.debian
        )),
        None => Ok(()),
    }
}

/// What is missing and how to install it, for a machine where we do not install ourselves.
fn not_installed(missing: &[&Need]) -> String {
    let mut message = String::from("the tests need what this machine lacks:\n");
    for need in missing {
        message.push_str(&format!(
            "  - {}: on Debian/Ubuntu `sudo apt-get install {}`; on macOS `{}`\n",
            need.what, need.debian, need.brew
        ));
    }
    message.push_str("install them, then run `cargo xtask provision` again");
    message
}

/// Whether we run as root (`apt-get install` needs it; we never call sudo ourselves).
fn is_root() -> bool {
    cmd("id", &["-u"])
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// `npm ci` in tests/js when its node_modules is missing or older than the lockfile.
pub fn npm_packages() -> Result {
    if !on_path("npm") {
        return Err(
            "the tests need Node.js 20 or newer with npm (https://nodejs.org, or your package manager)"
                .into(),
        );
    }
    let dir = root().join(JS_DIR);
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |path: &Path| path.metadata().and_then(|m| m.modified()).ok();
    if modified(&installed).is_some() && modified(&installed) >= modified(&lock) {
        return Ok(());
    }
    status(&mut cmd(
        "npm",
        &["ci", "--no-audit", "--no-fund", "--prefix", JS_DIR],
    ))
}

/// The cargo-generate that renders `template/`, installed with `cargo install` when missing.
/// 0.23.7 is the newest whose locked dependencies build on our toolchain (later ones need Rust
/// 1.96). Its default features only force a vendored libgit2; without them libgit2-sys still
/// builds its own when the system has none. It always links OpenSSL (see [`NEEDS`]).
fn cargo_generate() -> Result {
    if on_path("cargo-generate") {
        return Ok(());
    }
    status(&mut cmd(
        "cargo",
        &[
            "install",
            "cargo-generate",
            "--version",
            "0.23.7",
            "--locked",
            "--no-default-features",
        ],
    ))
}
