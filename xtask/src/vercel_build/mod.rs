//! `cargo xtask vercel-build`: the proof that the project deploys as one Vercel Function.
//!
//! `vercel deploy --prebuilt` uploads exactly what `vercel build` writes, and `vercel build`
//! runs offline, so this builds and inspects that output:
//!
//! 1. installs what is missing: the pinned Vercel CLI (`tools/vercel`), `cargo-zigbuild`, zig;
//! 2. copies the project's files into `target/vercel-check/project`, adds a route file
//!    `api/hello.rs` (the template promise: a new file is a new route, nothing else changes),
//!    and runs `vercel build` there with a local `.vercel/project.json`: the work tree is never
//!    touched, and the copy's `target/` is a link to a kept folder, so rebuilds are incremental;
//! 3. checks `.vercel/output`: the routes, exactly one function, its `.vc-config.json`, and an
//!    x86-64 ELF executable;
//! 4. starts that executable on a free port and probes every route end to end.

mod output;
mod probe;
mod tools;

use crate::run::{Result, root, status};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A route file that exists only in the copy: `/api/hello` must appear without other changes.
const HELLO_ROUTE: &str = r#"//! Added by `cargo xtask vercel-build` to prove that a new file is a new route.
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(_req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    let body = serde_json::json!({ "hello": "world" });
    Ok(wait_until::respond::json(http::StatusCode::OK, &body))
}
"#;

pub fn run() -> Result {
    tools::install()?;
    let check = root().join("target/vercel-check");
    let project = copy_project(&check)?;
    let mut build = Command::new(tools::vercel_cli());
    build
        .args(["build", "--yes"])
        .current_dir(&project)
        .env("VERCEL_TELEMETRY_DISABLED", "1");
    status(&mut build)?;
    let function = output::verify(&project)?;
    probe::serve_and_probe(&function)?;
    println!("vercel-build: the output deploys one function serving every route");
    Ok(())
}

/// A fresh copy of the tracked and untracked-but-not-ignored files, plus `api/hello.rs`.
fn copy_project(check: &Path) -> Result<PathBuf> {
    let project = check.join("project");
    let kept_target = check.join("cargo-target");
    if project.exists() {
        std::fs::remove_dir_all(&project).map_err(|e| format!("cannot clear {project:?}: {e}"))?;
    }
    let listing = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output()
        .map_err(|e| format!("git ls-files: {e}"))?;
    if !listing.status.success() {
        return Err("git ls-files failed: vercel-build needs a git checkout".into());
    }
    for file in listing.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let relative = std::str::from_utf8(file).map_err(|_| "a file name is not UTF-8")?;
        let from = root().join(relative);
        if !from.is_file() {
            continue; // deleted in the work tree but still in the index
        }
        let to = project.join(relative);
        std::fs::create_dir_all(to.parent().unwrap_or(&project))
            .and_then(|()| std::fs::copy(&from, &to))
            .map_err(|e| format!("cannot copy {relative}: {e}"))?;
    }
    if project.join("api/hello.rs").exists() {
        return Err("api/hello.rs already exists: the template check needs that name free".into());
    }
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap_or(&project))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| format!("cannot write {path:?}: {e}"))
    };
    write(project.join("api/hello.rs"), HELLO_ROUTE)?;
    write(
        project.join(".vercel/project.json"),
        r#"{"projectId":"prj_local","orgId":"team_local","settings":{"framework":null}}"#,
    )?;
    std::fs::create_dir_all(&kept_target)
        .and_then(|()| std::os::unix::fs::symlink(&kept_target, project.join("target")))
        .map_err(|e| format!("cannot link the kept target folder: {e}"))?;
    Ok(project)
}
