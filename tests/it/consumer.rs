//! Projects of their own, built by Cargo as their users build them (`testkit::consumer`), then
//! started in both of the runtime's modes and probed over HTTP:
//!
//! - `examples/routes/` (its own `Cargo.toml`, lock file and workspace, `bundled_api` by path):
//!   every kind of route (static, dynamic `[id]`, catch-all) and the 404s. Its `wait_until`
//!   route must answer before its work is done, and in production mode that work's log line
//!   must reach its request's log before the request's `end`.
//! - `template/`, rendered with cargo-generate as a user renders it: its route answers, and the
//!   visit it hands to `after_response` is written after the response, with the crate's success
//!   line in that request's own log before its `end`.
//!
//! The builds go into `<target>/consumer`, the same commands `cargo xtask test` runs first, so
//! there they find the work done; run alone (`cargo test --test it consumer`) they build from
//! cold, a minute or two. Requests are raw bytes, so that dot segments reach the function as
//! sent (an HTTP client would resolve them first).

use crate::{busy_cores, quiet_cores};
use std::path::PathBuf;
use std::time::Duration;
use testkit::app::App;
use testkit::consumer::Project;
use testkit::raw_http::closed;
use testkit::vercel_ipc::{Context, Ipc, LogLine, Message};
use testkit::{TEST_LIMIT, eventually, within};
use tokio::sync::OnceCell;

/// How long the nested build may take. From cold it compiles the runtime and its dependencies
/// (about 80 s on two cores, measured); a loaded machine gets several times that. After the
/// xtask has built it, it takes under a second.
const BUILD_WITHIN: Duration = Duration::from_secs(600);

/// One request and the answer it must get: status and JSON body (every answer also carries
/// `content-type: application/json` and `cache-control: no-store`).
struct Probe {
    path: &'static str,
    status: u16,
    body: &'static str,
}

const NOT_FOUND: &str = r#"{"error":"not found"}"#;

/// api/visits.rs: answers at once, and its work (100 ms, then this line in the request's log)
/// goes on after the answer, through `state.wait_until`.
const VISIT: Probe = Probe {
    path: "/api/visits",
    status: 202,
    body: r#"{"visit":"accepted"}"#,
};
const VISIT_LINE: &str = "visit recorded";

/// What both modes must answer, one line per promise of the example's routes.
const PROBES: &[Probe] = &[
    // api/hello.rs: a static route, at its file's path.
    Probe {
        path: "/api/hello",
        status: 200,
        body: r#"{"message":"hello"}"#,
    },
    // api/users/[id].rs: one dynamic segment, read and checked by the handler.
    Probe {
        path: "/api/users/2",
        status: 200,
        body: r#"{"id":2,"name":"Grace"}"#,
    },
    // The capture is percent-decoded: `%31` is `1`.
    Probe {
        path: "/api/users/%31",
        status: 200,
        body: r#"{"id":1,"name":"Ada"}"#,
    },
    Probe {
        path: "/api/users/abc",
        status: 400,
        body: r#"{"error":"the id must be digits"}"#,
    },
    Probe {
        path: "/api/users/3",
        status: 404,
        body: r#"{"error":"no such user"}"#,
    },
    // api/docs/[...slug].rs: every remaining segment, each decoded; an encoded `/` stays
    // inside its segment.
    Probe {
        path: "/api/docs/guides/getting%20started",
        status: 200,
        body: r#"{"slug":["guides","getting started"]}"#,
    },
    Probe {
        path: "/api/docs/a%2Fb/c",
        status: 200,
        body: r#"{"slug":["a/b","c"]}"#,
    },
    VISIT,
    // Paths no route names: bundled_api's 404.
    Probe {
        path: "/api/nope",
        status: 404,
        body: NOT_FOUND,
    },
    // A catch-all needs at least one segment.
    Probe {
        path: "/api/docs",
        status: 404,
        body: NOT_FOUND,
    },
    // Dot segments never reach a route, even encoded.
    Probe {
        path: "/api/docs/../users/1",
        status: 404,
        body: NOT_FOUND,
    },
    Probe {
        path: "/api/docs/%2e%2e/users/1",
        status: 404,
        body: NOT_FOUND,
    },
    // A helper (its name starts with `_`) is not a route.
    Probe {
        path: "/api/_respond",
        status: 404,
        body: NOT_FOUND,
    },
];

/// The example's binary, built once per run of the suite (both its tests wait for the one
/// build).
async fn example() -> &'static PathBuf {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| built("the example project", Project::example))
        .await
}

/// The template's binary: rendered and built once per run of the suite.
async fn template() -> &'static PathBuf {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| built("the template's project", || Project::template().unwrap()))
        .await
}

/// `project`'s binary after `cargo build`. A build keeps both cores busy when it is not a
/// no-op, so it runs alone, as the load tests do; its deadline starts once it runs.
async fn built(what: &str, project: impl FnOnce() -> Project) -> PathBuf {
    let _alone = busy_cores().await;
    let build = async {
        let project = project();
        build(&project).await;
        project.binary().expect("Cargo's target dir")
    };
    within(BUILD_WITHIN, &format!("{what}'s build"), build).await
}

/// `cargo build` of `project`; panics with Cargo's own stderr if it fails.
async fn build(project: &Project) {
    let command = project.cargo(&["build"]).expect("Cargo's target dir");
    let shown = format!("{command:?}");
    let output = tokio::process::Command::from(command)
        // Stopped if the deadline passes, rather than left building behind the suite.
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Sends every probe to `app`, with `headers` (each probe's own, by its index) and checks each
/// answer.
async fn probe(app: &App, headers: impl Fn(usize) -> Vec<(&'static str, String)>) {
    for (n, probe) in PROBES.iter().enumerate() {
        ask(app, probe, headers(n)).await;
    }
}

/// Sends `probe` to `app` with `headers` and checks the answer.
async fn ask(app: &App, probe: &Probe, headers: Vec<(&'static str, String)>) {
    let body = get(app, probe.path, headers).await;
    let expected: serde_json::Value = serde_json::from_str(probe.body).expect("a JSON probe");
    assert_eq!(body, (probe.status, expected), "GET {}", probe.path);
}

/// `GET path` from `app` with `headers`: its status and JSON body, once its headers are
/// checked (every answer is JSON, never cached).
async fn get(
    app: &App,
    path: &str,
    headers: Vec<(&'static str, String)>,
) -> (u16, serde_json::Value) {
    let mut head = format!("GET {path} HTTP/1.1\r\nhost: localhost");
    for (name, value) in headers {
        head.push_str(&format!("\r\n{name}: {value}"));
    }
    let answer = app
        .send_raw(closed(head))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let body = serde_json::from_str(&answer.body)
        .unwrap_or_else(|_| panic!("GET {path}: not JSON: {answer:?}"));
    for (name, value) in [
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
    ] {
        assert_eq!(answer.header(name), Some(value), "GET {path}: {name}");
    }
    (answer.status, body)
}

/// Locally the runtime prints a request's log lines, level first.
fn printed_visits(app: &App) -> usize {
    let line = format!("Info: {VISIT_LINE}");
    app.stdout()
        .iter()
        .filter(|printed| **printed == line)
        .count()
}

/// Waits until the visits' work has printed its line `count` times.
async fn wait_for_visits(app: &App, count: usize) {
    let what = format!("{count} lines {VISIT_LINE:?} on stdout");
    eventually(Duration::from_secs(10), &what, || {
        let printed = printed_visits(app);
        async move { printed >= count }
    })
    .await;
}

/// Production mode: `/api/visits` as request `context`. Its answer comes before its work's line;
/// the line reaches that request's log, at info level, and its `end` comes after the line.
async fn visit_in_production(app: &App, ipc: &Ipc, context: &Context) {
    let ours = |message: &Message| message.context().as_ref() == Some(context);
    ask(app, &VISIT, context.headers().into()).await;
    let so_far = ipc.messages();
    assert!(
        !so_far.iter().any(ours),
        "/api/visits: its work's line or its end came before its answer: {so_far:#?}"
    );
    let line = the_one_line_before_its_end(ipc, context).await;
    assert_eq!(
        (line.level.as_str(), line.text.as_str()),
        ("info", VISIT_LINE)
    );
}

/// Waits for the `end` of request `context`, then checks that its messages were one log line
/// and then its `end`, and returns that line.
async fn the_one_line_before_its_end(ipc: &Ipc, context: &Context) -> LogLine {
    let what = format!("the end of {context:?}");
    let ended = context.clone();
    ipc.wait_for(Duration::from_secs(10), &what, move |received| {
        received
            .ends()
            .iter()
            .any(|(c, _)| *c == ended)
            .then_some(())
    })
    .await;
    // One socket, read in order: a message's index is its place in time.
    let messages: Vec<_> = ipc
        .messages()
        .into_iter()
        .filter(|message| message.context().as_ref() == Some(context))
        .collect();
    let kinds: Vec<&str> = messages.iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, ["log", "end"], "{context:?}: {messages:#?}");
    messages[0].log().expect("a log line")
}

#[tokio::test]
async fn the_example_project_builds_and_serves_its_routes_locally() {
    let binary = example().await;
    // A visit's answer must beat its work's 100 ms: never measured beside a test that keeps
    // both cores busy.
    let _timed = quiet_cores().await;
    within(TEST_LIMIT, "the example's routes, locally", async {
        let app = App::start(binary, &[]).await;
        probe(&app, |_| Vec::new()).await;
        // The table's visit prints its line once its work is done; then one more visit, whose
        // answer must come before its line.
        wait_for_visits(&app, 1).await;
        ask(&app, &VISIT, Vec::new()).await;
        assert_eq!(
            printed_visits(&app),
            1,
            "/api/visits: its work's line came before its answer: {:#?}",
            app.stdout()
        );
        wait_for_visits(&app, 2).await;
    })
    .await;
}

/// In production mode each request carries Vercel's internal ids, and the runtime must end
/// each one over the IPC socket, as it does for the app; a visit's `end` waits for its work.
#[tokio::test]
async fn the_example_project_serves_its_routes_in_production_mode() {
    let binary = example().await;
    // A visit's answer must beat its work's 100 ms: never measured beside a test that keeps
    // both cores busy.
    let _timed = quiet_cores().await;
    within(TEST_LIMIT, "the example's routes, production mode", async {
        let (app, ipc) = App::start_in_production(binary, &[]).await;
        let context = |n: usize| Context::new(n as u64 + 1);
        probe(&app, |n| context(n).headers().into()).await;
        let ends = ipc
            .wait_for_ends(PROBES.len(), Duration::from_secs(10))
            .await;
        let mut ended: Vec<Context> = ends.into_iter().map(|(context, _)| context).collect();
        ended.sort_by_key(|context| context.request_id);
        let sent: Vec<Context> = (0..PROBES.len()).map(context).collect();
        assert_eq!(ended, sent, "one end per request, each with its own ids");
        visit_in_production(&app, &ipc, &context(PROBES.len())).await;
    })
    .await;
}

/// The template's route, asked with `headers`: it answers at once with the id of the visit it
/// hands to `after_response`.
async fn hello(app: &App, headers: Vec<(&'static str, String)>) -> String {
    let (status, body) = get(app, "/api/hello", headers).await;
    assert_eq!((status, &body["message"]), (200, &"hello".into()), "{body}");
    let id = body["visit"].as_str().expect("the visit's id");
    assert!(
        uuid::Uuid::parse_str(id).is_ok_and(|id| id.get_version_num() == 7),
        "a v7 id: {body}"
    );
    id.to_owned()
}

/// The line `after_response` leaves once visit `id` is written, in one attempt.
fn written(id: &str) -> String {
    format!("[after-response] wrote {id} to visits (1 attempt, ")
}

#[tokio::test]
async fn the_template_renders_builds_and_writes_its_visit_after_the_response_locally() {
    let binary = template().await;
    within(TEST_LIMIT, "the template's project, locally", async {
        let app = App::start(binary, &[]).await;
        let id = hello(&app, Vec::new()).await;
        // The sink printed the visit and the crate its success line, both after the answer.
        let lines = [format!("visit {id} /api/hello"), written(&id)];
        let what = format!("{lines:?} on stdout");
        eventually(Duration::from_secs(10), &what, || {
            let stdout = app.stdout();
            let seen = lines
                .iter()
                .all(|line| stdout.iter().any(|printed| printed.starts_with(line)));
            async move { seen }
        })
        .await;
        assert_eq!(
            get(&app, "/api/nope", Vec::new()).await,
            (404, serde_json::from_str(NOT_FOUND).unwrap())
        );
    })
    .await;
}

/// In production mode the visit's success line reaches its own request's log, at info level,
/// and the request's `end` comes after it.
#[tokio::test]
async fn the_template_ends_each_request_after_its_visit_is_written_in_production_mode() {
    let binary = template().await;
    within(
        TEST_LIMIT,
        "the template's project, production mode",
        async {
            let (app, ipc) = App::start_in_production(binary, &[]).await;
            let context = Context::new(1);
            let id = hello(&app, context.headers().into()).await;
            let line = the_one_line_before_its_end(&ipc, &context).await;
            assert_eq!(line.level, "info", "{line:?}");
            assert!(line.text.starts_with(&written(&id)), "{line:?}");
        },
    )
    .await;
}
