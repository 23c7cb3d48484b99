//! `#[bundled_api]` refuses, at compile time, a route file without `pub async fn handler`, and
//! the error names the file. Proven by building a real crate with cargo: the expansion is only
//! the error, so the fixture needs nothing but this macro crate.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Writes a crate whose `api/` holds `main.rs` and `route_files`, builds it, returns stderr.
fn build_fixture(name: &str, route_files: &[(&str, &str)]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!(
        "bundled-compile-fail-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("api")).unwrap();
    let macros = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fixture\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [[bin]]\nname = \"main\"\npath = \"api/main.rs\"\n\n\
             [dependencies]\nbundled_api_macros = {{ path = {:?} }}\n\n[workspace]\n",
            macros.display().to_string()
        ),
    )
    .unwrap();
    // The workspace's lockfile pins the same syn, quote and router versions: nothing new to fetch.
    std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::write(
        dir.join("api/main.rs"),
        "#[bundled_api_macros::bundled_api]\nasync fn handler(req: (), state: ()) {}\nfn main() {}\n",
    )
    .unwrap();
    for (file, source) in route_files {
        let path = dir.join("api").join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, source).unwrap();
    }
    let output = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        // Its own target folder: the one of the running `cargo test` is locked.
        .env(
            "CARGO_TARGET_DIR",
            // Under Cargo's own target directory, wherever that is (`CARGO_TARGET_DIR`).
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("compile-fail"),
        )
        .output()
        .expect("cargo runs");
    let _ = std::fs::remove_dir_all(&dir);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_route_file_without_a_handler_fails_the_build_naming_the_file() {
    let (built, stderr) =
        build_fixture("missing", &[("users/[id].rs", "pub async fn show() {}\n")]);
    assert!(!built, "the build should fail");
    assert!(
        stderr.contains(
            "api/users/[id].rs defines no handler: a route file must define `pub async fn handler"
        ),
        "{stderr}"
    );
}

#[test]
fn a_catch_all_that_is_not_last_fails_the_build_naming_the_file() {
    let (built, stderr) = build_fixture(
        "catch-all",
        &[(
            "[...all]/x.rs",
            "pub async fn handler(req: (), state: ()) {}\n",
        )],
    );
    assert!(!built);
    assert!(
        stderr.contains("api/[...all]/x.rs: a catch-all segment must be the last one"),
        "{stderr}"
    );
}
