//! `#[bundled_api]` and its build helper seen through real Cargo builds of small fixture crates:
//! what a user meets at compile time, which the macro's unit tests cannot show.
//!
//! - A route file the macro cannot use fails the build with an error naming the file; so do two
//!   files of one shape (`[id].rs` beside `[slug].rs`) and a body on the attribute's function.
//! - Route names with dots, spaces and symbols (`robots.txt.rs`, `a b.rs`, `v1.2/`) build and
//!   serve their decoded paths through the runtime crate's own matcher.
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

/// A fixture's `api/main.rs` that routes for real: the runtime crate's own matcher, its
/// `pattern.rs` and `path.rs` compiled in by path (they need only std and a `RouteParams` with
/// `push_one` and `push_many`), and a `main` that dispatches each argument as a request path.
/// Each route prints its file name and captures; an unmatched path prints `404`.
const ROUTING_MAIN: &str = r#"
extern crate self as bundled_api;
#[path = "{bundled}/src/path.rs"]
#[allow(dead_code)]
mod path;
pub mod __private {
    #[path = "{bundled}/src/pattern.rs"]
    #[allow(dead_code)]
    mod pattern;
    pub use pattern::{route, Segment};
}
#[derive(Debug, Default)]
pub struct RouteParams(Vec<(&'static str, Vec<String>)>);
impl RouteParams {
    fn push_one(&mut self, name: &'static str, value: String) { self.0.push((name, vec![value])); }
    fn push_many(&mut self, name: &'static str, values: Vec<String>) { self.0.push((name, values)); }
}
pub fn not_found() { println!("404"); }
pub struct Req { path: String, pub params: Option<RouteParams> }
impl Req {
    pub fn uri(&self) -> &Req { self }
    pub fn path(&self) -> &str { &self.path }
    pub fn extensions_mut(&mut self) -> &mut Option<RouteParams> { &mut self.params }
}
#[bundled_api_macros::bundled_api]
async fn handler(req: Req, state: ()) -> Result<(), ()> {}
fn main() {
    for path in std::env::args().skip(1) {
        let call = std::pin::pin!(handler(Req { path, params: None }, ()));
        let waker = std::task::Waker::noop();
        let done = std::future::Future::poll(call, &mut std::task::Context::from_waker(waker));
        assert!(done.is_ready(), "nothing here waits");
    }
}
"#;

/// A route for `ROUTING_MAIN` that answers with its own file name and what it captured.
fn answering(file: &str) -> String {
    format!(
        "pub async fn handler(req: crate::Req, _state: ()) -> Result<(), ()> {{\n    \
         println!(\"{{}} {{:?}}\", {file:?}, req.params.map(|p| p.0));\n    Ok(())\n}}\n"
    )
}

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
        Fixture::with_main(name, with_build_script, MAIN, routes)
    }

    /// The same with `main` as its `api/main.rs`.
    fn with_main(
        name: &str,
        with_build_script: bool,
        main: &str,
        routes: &[(&str, &str)],
    ) -> Fixture {
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
                 [[bin]]\nname = \"main-{name}\"\npath = \"api/main.rs\"\n\n\
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
        std::fs::write(dir.join("api/main.rs"), main).unwrap();
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
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .expect("cargo runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Builds, and requires the build to fail with `message` among Cargo's errors.
    #[track_caller]
    fn fails_saying(&self, message: &str) {
        let (built, stderr) = self.build();
        assert!(!built, "the build should fail, saying {message:?}");
        assert!(stderr.contains(message), "{stderr}");
    }

    /// Runs the built binary (named after the fixture, so fixtures building in parallel into the
    /// shared target folder do not overwrite it) with `args`; its stdout.
    fn run(&self, name: &str, args: &[&str]) -> String {
        let binary = target_dir().join("debug").join(format!("main-{name}"));
        let output = Command::new(&binary)
            .args(args)
            .output()
            .expect("the fixture runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn write(&self, file: &str, source: &str) {
        std::fs::write(self.0.join("api").join(file), source).unwrap();
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.0.join("api").join(file)).unwrap();
    }
}

/// One target folder for every fixture, so the macro crate and its dependencies build once: the
/// running `cargo test` holds the lock on the main one.
fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("route-builds")
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
    fixture.fails_saying(
        "api/users/[id].rs defines no handler: a route file must define `pub async fn handler",
    );
}

#[test]
fn a_catch_all_that_is_not_last_fails_the_build_naming_the_file() {
    let fixture = Fixture::new("catch-all", false, &[("[...all]/x.rs", ROUTE)]);
    fixture.fails_saying("api/[...all]/x.rs: a catch-all segment must be the last one");
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

#[test]
fn names_with_dots_spaces_and_symbols_build_and_serve_their_decoded_paths() {
    let files = [
        "robots.txt.rs",
        "a b.rs",
        "a+b.rs",
        "a(b).rs",
        "v1.2/x.rs",
        "v1.2/[id].rs",
        "v.rs/x.rs",
    ];
    let sources: Vec<_> = files
        .iter()
        .map(|file| answering(&format!("api/{file}")))
        .collect();
    let routes: Vec<_> = files
        .iter()
        .zip(&sources)
        .map(|(f, s)| (*f, s.as_str()))
        .collect();
    let main = ROUTING_MAIN.replace(
        "{bundled}",
        &workspace_root().join("bundled").display().to_string(),
    );
    let fixture = Fixture::with_main("odd-names", false, &main, &routes);
    let (built, stderr) = fixture.build();
    assert!(built, "the fixture builds: {stderr}");
    let asked = [
        ("/api/robots.txt", "api/robots.txt.rs None"),
        ("/api/robots%2Etxt", "api/robots.txt.rs None"),
        ("/api/robotsxtxt", "404"),
        ("/api/a%20b", "api/a b.rs None"),
        ("/api/a+b", "api/a+b.rs None"),
        ("/api/a%2Bb", "api/a+b.rs None"),
        ("/api/a%20b%2B", "404"),
        ("/api/a(b)", "api/a(b).rs None"),
        ("/api/v1.2/x", "api/v1.2/x.rs None"),
        ("/api/v1.2/7", r#"api/v1.2/[id].rs Some([("id", ["7"])])"#),
        ("/api/v1x2/x", "404"),
        ("/api/v.rs/x", "api/v.rs/x.rs None"),
    ];
    let paths: Vec<_> = asked.iter().map(|(path, _)| *path).collect();
    let answers = fixture.run("odd-names", &paths);
    let answers: Vec<_> = answers.lines().collect();
    let expected: Vec<_> = asked.iter().map(|(_, answer)| *answer).collect();
    assert_eq!(answers, expected);
}

#[test]
fn two_dynamic_siblings_fail_the_build_naming_both_files() {
    let fixture = Fixture::new(
        "siblings",
        false,
        &[("things/[id].rs", ROUTE), ("things/[slug].rs", ROUTE)],
    );
    fixture.fails_saying("api/things/[id].rs and api/things/[slug].rs both serve /api/things/[id]");
}

#[test]
fn a_body_on_the_attributes_function_fails_the_build() {
    let main = MAIN.replace(
        "-> Result<(), ()> {}",
        "-> Result<(), ()> { panic!(\"never runs\") }",
    );
    let fixture = Fixture::with_main("body", false, &main, &[("a.rs", ROUTE)]);
    fixture.fails_saying("#[bundled_api] writes this function's body");
}

#[test]
fn handlers_visible_to_the_parent_module_but_not_pub_build() {
    let routes = [
        ("a.rs", ROUTE.replacen("pub", "pub(crate)", 1)),
        ("b.rs", ROUTE.replacen("pub", "pub(super)", 1)),
        ("c/d.rs", ROUTE.replacen("pub", "pub(in crate)", 1)),
    ];
    let routes: Vec<_> = routes.iter().map(|(f, s)| (*f, s.as_str())).collect();
    let fixture = Fixture::new("visibility", false, &routes);
    let (built, stderr) = fixture.build();
    assert!(built, "the fixture builds: {stderr}");
}

#[test]
fn a_route_no_path_reaches_fails_the_build_naming_what_takes_its_paths() {
    let fixture = Fixture::new(
        "unreachable",
        false,
        &[("[...slug].rs", ROUTE), ("[id]/[[...rest]].rs", ROUTE)],
    );
    fixture.fails_saying(
        "api/[...slug].rs can never be reached: api/[id]/[[...rest]].rs takes every path it serves",
    );
}
