//! What `vercel build` needs for a Rust function, installed when missing, pinned, and never
//! machine-wide:
//!
//! - the Vercel CLI, pinned by `tools/vercel/package.json` and its lockfile, in
//!   `tools/vercel/node_modules`; reinstalled when the installed version is not the pinned one;
//! - `cargo-zigbuild` and zig (PyPI's `ziglang`), pinned by `tools/vercel/requirements.txt`, in a
//!   virtualenv under the target directory: prebuilt wheels install in seconds, where
//!   `cargo install cargo-zigbuild` compiles for minutes on two cores.

use super::{check_dir, read_json};
use crate::run::{Result, cmd, root, status};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CLI_DIR: &str = "tools/vercel";

/// Where the tools are, and how `vercel build` must be started to use them.
pub struct Tools {
    pub vercel: PathBuf,
    /// The virtualenv's `bin`: `cargo-zigbuild`, and the `python3` that has `ziglang`.
    pub venv_bin: PathBuf,
}

impl Tools {
    /// `vercel build`, run in `project`, finding the pinned cross-compilers.
    pub fn vercel_build(&self, project: &Path) -> Command {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            std::iter::once(self.venv_bin.clone()).chain(std::env::split_paths(&path)),
        )
        .expect("the virtualenv's path has no PATH separator");
        let mut build = Command::new(&self.vercel);
        build
            .args(["build", "--yes"])
            .current_dir(project)
            .env("PATH", path)
            // Whichever `cargo-zigbuild` runs (see `zigbuild_in_use`), its zig is the pinned one.
            .env("CARGO_ZIGBUILD_PYTHON_PATH", self.venv_bin.join("python3"))
            .env("VERCEL_TELEMETRY_DISABLED", "1");
        // Each would change what gets built or where: Vercel's own build image (no
        // cross-compilation), a target folder outside the project (`deploy --prebuilt` refuses
        // it), a default target (the builder appends it to the output path), another project.
        for name in [
            "VERCEL_BUILD_IMAGE",
            "CARGO_TARGET_DIR",
            "CARGO_BUILD_TARGET",
            "VERCEL_ORG_ID",
            "VERCEL_PROJECT_ID",
        ] {
            build.env_remove(name);
        }
        build
    }
}

pub fn install() -> Result<Tools> {
    let tools = Tools {
        vercel: vercel_cli()?,
        venv_bin: cross_compilers()?,
    };
    let zigbuild = zigbuild_in_use(&tools.venv_bin);
    let version = Command::new(&zigbuild)
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .map_err(|e| format!("cannot run {zigbuild:?}: {e}"))?;
    println!("vercel-build: {version} ({})", zigbuild.display());
    Ok(tools)
}

/// The `cargo-zigbuild` that `cargo zigbuild` will run inside `vercel build`: the Rust builder
/// puts ~/.cargo/bin first on PATH, so one installed there (`cargo install`) shadows ours.
fn zigbuild_in_use(venv_bin: &Path) -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let machine_wide = home.join(".cargo/bin/cargo-zigbuild");
    if machine_wide.is_file() {
        machine_wide
    } else {
        venv_bin.join("cargo-zigbuild")
    }
}

/// The pinned CLI, installed with `npm install --no-save` when another version (or none) is there.
///
/// Not `npm ci`: the CLI's optional per-platform packages (`@vercel/vc-native-*`) are not all
/// served at its version by the registry our machines reach, so the lockfile lacks them and
/// `npm ci` refuses it as out of sync. `npm install --no-save` installs exactly the locked
/// versions and leaves the lockfile untouched.
pub(crate) fn vercel_cli() -> Result<PathBuf> {
    let dir = root().join(CLI_DIR);
    let pinned = read_json(&dir.join("package.json"))?["devDependencies"]["vercel"]
        .as_str()
        .map(str::to_owned)
        .ok_or("tools/vercel/package.json pins no `vercel` in devDependencies")?;
    let installed = || {
        read_json(&dir.join("node_modules/vercel/package.json"))
            .ok()
            .and_then(|package| package["version"].as_str().map(str::to_owned))
    };
    if installed().as_deref() != Some(pinned.as_str()) {
        status(&mut cmd(
            "npm",
            &[
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                CLI_DIR,
            ],
        ))?;
    }
    match installed() {
        Some(version) if version == pinned => Ok(dir.join("node_modules/.bin/vercel")),
        other => Err(format!(
            "npm installed vercel {other:?}, but tools/vercel/package.json pins {pinned}"
        )),
    }
}

/// The virtualenv with the pinned `cargo-zigbuild` and zig; returns its `bin`.
fn cross_compilers() -> Result<PathBuf> {
    let venv = check_dir()?.join("venv");
    let bin = venv.join("bin");
    // A virtualenv breaks when the Python it was made from goes away: make it anew.
    if !succeeds(Command::new(bin.join("python3")).args(["-c", ""])) {
        let venv = venv.to_str().ok_or("the repository path is not UTF-8")?;
        status(&mut cmd("python3", &["-m", "venv", "--clear", venv]))?;
    }
    let requirements = root().join(CLI_DIR).join("requirements.txt");
    // Already satisfied: about half a second, and no registry is asked.
    status(
        Command::new(bin.join("python3"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("--requirement")
            .arg(&requirements),
    )?;
    for (program, args) in [
        (bin.join("cargo-zigbuild"), &["--version"][..]),
        (bin.join("python3"), &["-m", "ziglang", "version"][..]),
    ] {
        if !succeeds(Command::new(&program).args(args)) {
            return Err(format!("{program:?} {args:?} fails after pip install"));
        }
    }
    Ok(bin)
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
