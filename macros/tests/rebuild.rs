//! Adding or removing a route file rebuilds the function. A proc macro cannot tell Cargo which
//! folders it read, so the workspace's `build.rs` (`cargo:rerun-if-changed=api`) does; this
//! builds a fixture crate with that very `build.rs` and watches Cargo notice a new route file.
//! The control without `build.rs` shows the test can fail: there, Cargo does not notice.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A crate whose `api/main.rs` uses `#[bundled_api]`, with stand-ins for the runtime crate
/// (`extern crate self as bundled_api`) so it builds with nothing but the macro.
const MAIN: &str = r#"
extern crate self as bundled_api;
#[allow(dead_code)]
pub enum Segment { Static(&'static str), Dynamic(&'static str), CatchAll(&'static str), OptionalCatchAll(&'static str) }
pub mod __private {
    pub fn route(_: &[&[crate::Segment]], _: &str) -> Option<(usize, ())> { None }
}
pub fn not_found() {}
pub struct Req;
impl Req {
    pub fn uri(&self) -> &Req { self }
    pub fn path(&self) -> &str { "/" }
}
#[bundled_api_macros::bundled_api]
async fn handler(req: Req, state: ()) -> Result<(), ()> {}
fn main() { let _ = handler; }
"#;
const ROUTE: &str =
    "pub async fn handler(_req: crate::Req, _state: ()) -> Result<(), ()> { Ok(()) }\n";

struct Fixture(PathBuf);

impl Fixture {
    fn new(name: &str, with_build_script: bool) -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("bundled-rebuild-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("api")).unwrap();
        let macros = Path::new(env!("CARGO_MANIFEST_DIR")).display().to_string();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"fixture-{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [[bin]]\nname = \"main\"\npath = \"api/main.rs\"\n\n\
                 [dependencies]\nbundled_api_macros = {{ path = {macros:?} }}\n\n[workspace]\n"
            ),
        )
        .unwrap();
        std::fs::copy(workspace().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        if with_build_script {
            std::fs::copy(workspace().join("build.rs"), dir.join("build.rs")).unwrap();
        }
        std::fs::write(dir.join("api/main.rs"), MAIN).unwrap();
        std::fs::write(dir.join("api/a.rs"), ROUTE).unwrap();
        Fixture(dir)
    }

    fn build(&self) -> (bool, String) {
        let output = Command::new(env!("CARGO"))
            .args(["build", "--offline", "--quiet"])
            .current_dir(&self.0)
            .env(
                "CARGO_TARGET_DIR",
                // Under Cargo's own target directory, wherever that is (`CARGO_TARGET_DIR`).
                std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("compile-fail"),
            )
            .output()
            .expect("cargo runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A route file the macro refuses: if Cargo re-expands, the build fails naming it.
const BROKEN: &str = "pub fn not_a_handler() {}\n";

#[test]
fn adding_and_removing_a_route_file_rebuilds_the_function() {
    let fixture = Fixture::new("with", true);
    let (built, stderr) = fixture.build();
    assert!(built, "the fixture builds: {stderr}");
    std::fs::write(fixture.0.join("api/b.rs"), BROKEN).unwrap();
    let (built, stderr) = fixture.build();
    assert!(!built, "adding api/b.rs must re-expand the macro");
    assert!(stderr.contains("api/b.rs defines no handler"), "{stderr}");
    std::fs::remove_file(fixture.0.join("api/b.rs")).unwrap();
    let (built, stderr) = fixture.build();
    assert!(
        built,
        "removing api/b.rs must re-expand the macro: {stderr}"
    );
}

#[test]
fn without_the_build_script_cargo_would_not_notice_a_new_route() {
    let fixture = Fixture::new("without", false);
    assert!(fixture.build().0);
    std::fs::write(fixture.0.join("api/b.rs"), BROKEN).unwrap();
    let (built, stderr) = fixture.build();
    assert!(
        built,
        "control: with nothing telling Cargo about api/, the stale build stands: {stderr}"
    );
}
