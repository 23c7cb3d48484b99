//! `#[bundled_api]` and its build helper seen through real Cargo builds of small fixture crates:
//! what a user meets at compile time, which the macro's unit tests cannot show.
//!
//! - A route file the macro cannot use fails the build with an error naming the file.
//! - Adding or removing a route file rebuilds the function when `build.rs` is the documented one
//!   line, `bundled_api::build::rerun_if_routes_change()` (with `bundled_api` as a
//!   build-dependency without default features). The control without `build.rs` shows the test
//!   can fail: there Cargo does not notice, because a proc macro cannot tell it which folders it
//!   read.
//!
//! These live here rather than in `macros/tests/` because they build against this repository (its
//! lock file and both crates' folders), which the published packages do not contain.

use std::path::PathBuf;
use std::process::Command;
use testkit::workspace_root;

/// A fixture's `api/main.rs`: `#[bundled_api]` with stand-ins for what its expansion names in the
/// runtime crate (`extern crate self as bundled_api`), so a fixture builds with nothing but the
/// macro crate and in seconds.
const MAIN: &str = r#"
extern crate self as bundled_api;
pub mod __private {
    #[allow(dead_code)]
    pub enum Segment { Static(&'static str), Dynamic(&'static str), CatchAll(&'static str), OptionalCatchAll(&'static str) }
    pub fn route(_: &[&[Segment]], _: &str) -> Option<(usize, ())> { None }
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

/// A route file the stand-ins accept.
const ROUTE: &str =
    "pub async fn handler(_req: crate::Req, _state: ()) -> Result<(), ()> { Ok(()) }\n";

/// A route file the macro refuses: when Cargo re-expands, the build fails naming it.
const BROKEN: &str = "pub fn not_a_handler() {}\n";

/// The whole `build.rs` the crate's README asks a user to write.
const BUILD_SCRIPT: &str = "fn main() {\n    bundled_api::build::rerun_if_routes_change();\n}\n";

/// A crate in a folder of its own, removed when dropped.
struct Fixture(PathBuf);

impl Fixture {
    /// A crate named after `name` whose `api/` holds `main.rs` and `routes`, with the documented
    /// `build.rs` when `with_build_script`.
    fn new(name: &str, with_build_script: bool, routes: &[(&str, &str)]) -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("bundled-fixture-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("api")).unwrap();
        let root = workspace_root();
        let (macros, bundled) = (root.join("macros"), root.join("bundled"));
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"fixture-{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [[bin]]\nname = \"main\"\npath = \"api/main.rs\"\n\n\
                 [dependencies]\nbundled_api_macros = {{ path = {macros:?} }}\n\n\
                 [build-dependencies]\n\
                 bundled_api = {{ path = {bundled:?}, default-features = false }}\n\n[workspace]\n"
            ),
        )
        .unwrap();
        // The workspace's lock file pins the same syn, quote and router: nothing new to fetch.
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
        if with_build_script {
            std::fs::write(dir.join("build.rs"), BUILD_SCRIPT).unwrap();
        }
        std::fs::write(dir.join("api/main.rs"), MAIN).unwrap();
        for (file, source) in routes {
            let path = dir.join("api").join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, source).unwrap();
        }
        Fixture(dir)
    }

    /// `cargo build`: whether it succeeded, and its stderr.
    fn build(&self) -> (bool, String) {
        let output = Command::new(env!("CARGO"))
            .args(["build", "--offline", "--quiet"])
            .current_dir(&self.0)
            // A target folder of its own: the running `cargo test` holds the lock on the main one.
            .env(
                "CARGO_TARGET_DIR",
                PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("route-builds"),
            )
            .output()
            .expect("cargo runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn write(&self, file: &str, source: &str) {
        std::fs::write(self.0.join("api").join(file), source).unwrap();
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.0.join("api").join(file)).unwrap();
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_route_file_without_a_handler_fails_the_build_naming_the_file() {
    let fixture = Fixture::new(
        "missing",
        false,
        &[("users/[id].rs", "pub async fn show() {}\n")],
    );
    let (built, stderr) = fixture.build();
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
    let fixture = Fixture::new("catch-all", false, &[("[...all]/x.rs", ROUTE)]);
    let (built, stderr) = fixture.build();
    assert!(!built, "the build should fail");
    assert!(
        stderr.contains("api/[...all]/x.rs: a catch-all segment must be the last one"),
        "{stderr}"
    );
}

#[test]
fn adding_and_removing_a_route_file_rebuilds_the_function() {
    let fixture = Fixture::new("with", true, &[("a.rs", ROUTE)]);
    let (built, stderr) = fixture.build();
    assert!(built, "the fixture builds: {stderr}");
    fixture.write("b.rs", BROKEN);
    let (built, stderr) = fixture.build();
    assert!(!built, "adding api/b.rs must re-expand the macro");
    assert!(stderr.contains("api/b.rs defines no handler"), "{stderr}");
    fixture.remove("b.rs");
    let (built, stderr) = fixture.build();
    assert!(
        built,
        "removing api/b.rs must re-expand the macro: {stderr}"
    );
}

#[test]
fn without_the_build_script_cargo_would_not_notice_a_new_route() {
    let fixture = Fixture::new("without", false, &[("a.rs", ROUTE)]);
    let (built, stderr) = fixture.build();
    assert!(built, "the fixture builds: {stderr}");
    fixture.write("b.rs", BROKEN);
    let (built, stderr) = fixture.build();
    assert!(
        built,
        "control: with nothing telling Cargo about api/, the stale build stands: {stderr}"
    );
}
