//! `cargo xtask vercel-build`: the proof that the project deploys as one Vercel Function.
//!
//! `vercel deploy --prebuilt` uploads what `vercel build` writes (`.vercel/output`, plus the
//! files its `filePathMap`s name), and `vercel build` runs offline, so this builds that and
//! inspects it:
//!
//! 1. installs what is missing: the pinned Vercel CLI, `cargo-zigbuild` and zig (`tools.rs`);
//! 2. brings a copy of the project up to date in `<target dir>/vercel-check/project`, with one more
//!    route file, `api/hello.rs` (the template promise: a new file is a new route, nothing else
//!    changes), and a local `.vercel/project.json` (`project.rs`); the work tree is never written;
//! 3. runs `vercel build` there, offline;
//! 4. checks `.vercel/output`: routes, the page's security headers on its static routes,
//!    exactly one function, its `.vc-config.json`, an x86-64 ELF executable inside the project
//!    (`output.rs`);
//! 5. starts that executable on a free port and probes every route end to end, and that it
//!    serves the page with the headers `config.json` gives it on Vercel and every API answer
//!    with nosniff and the same referrer policy (`probe.rs`);
//! 6. starts it again as Vercel does, over the runtime's IPC socket, and checks that a failure
//!    line reaches its request's log before its `end`, and the answer's security headers
//!    (`production.rs`);
//! 7. gives the README's `vercel logs` command (the export `replay` reads) to the pinned CLI,
//!    which must accept it (`readme_logs.rs`).
//!
//! The copy keeps its `target/`, so a warm run recompiles only what changed. Runs wait for each
//! other: they share that copy.

mod output;
mod probe;
mod production;
pub(crate) mod project;
mod readme_logs;
pub(crate) mod tools;

use crate::run::{Result, status, target_dir};
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

/// Where everything this check writes goes: under Cargo's target directory.
fn check_dir() -> Result<std::path::PathBuf> {
    Ok(target_dir()?.join("vercel-check"))
}

/// The route file that exists only in the copy: the README's "Add a route" example.
const HELLO_ROUTE: &str = r#"//! Added by `cargo xtask vercel-build`: a new file is a new route, nothing else changes.
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(_req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(wait_until::respond::json(http::StatusCode::OK, &serde_json::json!({ "hello": "world" })))
}
"#;

/// What `vercel link` would write; `vercel build` needs no more to run offline.
const PROJECT_LINK: &str =
    r#"{"projectId":"prj_local","orgId":"team_local","settings":{"framework":null}}"#;

/// Where this check cannot run, and what to do instead.
const NOT_HERE: &str = "this check runs the built function, a Linux x86-64 executable: run it \
                        on Linux x86-64, e.g. in a Debian container (see README, Test it)";

pub fn run() -> Result {
    // The check starts the built function, a Linux x86-64 executable, so it can only run where
    // that executable runs. Say so up front rather than after minutes of building.
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Err(NOT_HERE.into());
    }
    let started = Instant::now();
    let check = check_dir()?;
    let _lock = lock(&check)?;
    let tools = tools::install()?;
    let project = check.join("project");
    project::sync(
        &project,
        &[
            ("api/hello.rs", HELLO_ROUTE),
            (".vercel/project.json", PROJECT_LINK),
        ],
    )?;
    // A stale output must not pass for this run's.
    let output = project.join(".vercel/output");
    if output.exists() {
        std::fs::remove_dir_all(&output).map_err(|e| format!("cannot clear {output:?}: {e}"))?;
    }
    status(&mut tools.vercel_build(&project))?;
    let output::Verified {
        executable,
        page_headers,
    } = output::verify(&project)?;
    probe::serve_and_probe(&executable, &page_headers)?;
    production::probe(&executable, &check, &page_headers)?;
    readme_logs::check(&tools.vercel, &check)?;
    println!(
        "vercel-build: one function serves every route, as deployed ({:.0?})",
        started.elapsed()
    );
    Ok(())
}

/// Holds `<check>/lock` until dropped (the OS releases it if the process dies).
pub(crate) fn lock(check: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(check).map_err(|e| format!("cannot create {check:?}: {e}"))?;
    let file = std::fs::File::create(check.join("lock"))
        .map_err(|e| format!("cannot create the lock file: {e}"))?;
    if file.try_lock().is_err() {
        println!("waiting for another run of this check to finish ({check:?})");
        file.lock().map_err(|e| format!("cannot lock: {e}"))?;
    }
    Ok(file)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path:?}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path:?} is not JSON: {e}"))
}
