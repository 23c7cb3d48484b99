//! Projects of their own, built as their users build them, outside this workspace:
//!
//! - the example `examples/routes/`: its own workspace, lock file and profiles, `bundled_api`
//!   by path, built `--locked`;
//! - the template `template/`, rendered with cargo-generate as a user renders it from a clone:
//!   its dependencies name the registry (`bundled_api = "0.1"`, `after_response = "0.1"`), and
//!   `--define crates=<this workspace>` adds the `[patch.crates-io]` that takes them from here
//!   until they are published.
//!
//! `cargo xtask test` formats, lints, builds and tests both; `tests/it/consumer.rs` builds them
//! again (a no-op after the xtask, bar the freshly rendered template's own crate) and starts
//! their binaries. Both go through [`Project::cargo`], so they share one target directory and
//! one way of calling Cargo.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::Command;

/// A project of its own: where its manifest is, what its function's binary is called, and
/// whether its lock file is committed (then every Cargo command on it is `--locked`).
pub struct Project {
    manifest: PathBuf,
    binary: &'static str,
    locked: bool,
}

/// The name the template is rendered with: its package and its binary.
const TEMPLATE_NAME: &str = "my-api";

impl Project {
    /// `examples/routes/`, built `--locked`: its committed lock file must hold.
    pub fn example() -> Project {
        Project {
            manifest: crate::workspace_root().join("examples/routes/Cargo.toml"),
            binary: "example-routes",
            locked: true,
        }
    }

    /// `template/`, rendered afresh by `cargo generate --path template --name my-api --define
    /// crates=<this workspace>` into a folder of the system's temporary directory (outside any
    /// workspace, as a user's project is). It starts from the example's lock file, so it builds
    /// the versions the example pins and shares their build.
    pub fn template() -> Result<Project, String> {
        let target = target_dir()?;
        // Named after the target directory: a stable folder per checkout, so its build is reused.
        let mut hasher = std::hash::DefaultHasher::new();
        target.hash(&mut hasher);
        let place = std::env::temp_dir().join(format!("wait-until-template-{:x}", hasher.finish()));
        if place.exists() {
            std::fs::remove_dir_all(&place)
                .map_err(|e| format!("cannot clear {}: {e}", place.display()))?;
        }
        std::fs::create_dir_all(&place)
            .map_err(|e| format!("cannot create {}: {e}", place.display()))?;
        let root = crate::workspace_root();
        let mut render = Command::new("cargo-generate");
        render
            .args(["generate", "--path"])
            .arg(root.join("template"))
            .args(["--name", TEMPLATE_NAME, "--vcs", "none", "--silent"])
            .arg("--define")
            .arg(format!("crates={}", root.display()))
            .arg("--destination")
            .arg(&place);
        let output = render.output().map_err(|e| {
            format!("cannot run cargo-generate ({e}); run `cargo xtask provision` to install it")
        })?;
        if !output.status.success() {
            return Err(format!(
                "{render:?} failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let project = place.join(TEMPLATE_NAME);
        let lock = Project::example().manifest.with_file_name("Cargo.lock");
        std::fs::copy(&lock, project.join("Cargo.lock"))
            .map_err(|e| format!("cannot copy {}: {e}", lock.display()))?;
        Ok(Project {
            manifest: project.join("Cargo.toml"),
            binary: TEMPLATE_NAME,
            locked: false,
        })
    }

    /// Its debug binary, where `cargo build` leaves it.
    pub fn binary(&self) -> Result<PathBuf, String> {
        Ok(target_dir()?.join("debug").join(self.binary))
    }

    /// `cargo [--locked] <args…> --manifest-path <its manifest>`, from its own folder (so its
    /// `rust-toolchain.toml` and `.cargo/config.toml` apply), into [`target_dir`]. The caller
    /// may add more, such as clippy's `-- -D warnings`.
    pub fn cargo(&self, args: &[&str]) -> Result<Command, String> {
        let mut command = crate::cargo();
        command
            .args(self.locked.then_some("--locked"))
            .args(args)
            .arg("--manifest-path")
            .arg(&self.manifest)
            .current_dir(self.manifest.parent().expect("a manifest is in a folder"))
            .env("CARGO_TARGET_DIR", target_dir()?);
        Ok(command)
    }
}

/// Where they build: `<target>/consumer`. A directory of its own because an outer `cargo test`
/// holds the lock on the workspace's (a nested build there would wait for ever), and because
/// their lock files are their own: sharing would rebuild crates back and forth.
pub fn target_dir() -> Result<PathBuf, String> {
    Ok(crate::target_dir()?.join("consumer"))
}
