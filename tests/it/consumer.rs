//! `bundled_api` used from a project of its own: `examples/routes/` (its own `Cargo.toml`,
//! lock file and workspace, the crate by path) is built by Cargo as its users would build it,
//! then its binary is started in both of the runtime's modes and every kind of route is probed
//! over HTTP: the static route, the dynamic `[id]`, the catch-all, and the 404s. Its
//! `wait_until` route must answer before its work is done, and in production mode that work's
//! log line must reach its request's log before the request's `end`.
//!
//! The build is `cargo build --locked` into `<target>/consumer` (`testkit::consumer`), the same
//! command `cargo xtask test` runs first, so there it finds the work done; run alone (`cargo test
//! --test it consumer`) it builds from cold, a minute or two. Requests are raw bytes, so that
//! dot segments reach the function as sent (an HTTP client would resolve them first).

use crate::{busy_cores, quiet_cores};
use std::path::PathBuf;
use std::time::Duration;
use testkit::app::App;
use testkit::raw_http::closed;
use testkit::vercel_ipc::{Context, Ipc, Message};
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

/// The example's binary, built once per run of the suite (both tests wait for the one build).
/// The build keeps both cores busy when it is not a no-op, so it runs alone, as the load tests
/// do; its deadline starts once it runs.
async fn built() -> &'static PathBuf {
    static BINARY: OnceCell<PathBuf> = OnceCell::const_new();
    BINARY
        .get_or_init(|| async {
            let _alone = busy_cores().await;
            within(BUILD_WITHIN, "the example project's build", build()).await
        })
        .await
}

/// `cargo build --locked` of the example; panics with Cargo's own stderr if it fails.
async fn build() -> PathBuf {
    let command = testkit::consumer::cargo(&["build", "--locked"]).expect("Cargo's target dir");
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
    testkit::consumer::binary().expect("Cargo's target dir")
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
    let mut head = format!("GET {} HTTP/1.1\r\nhost: localhost", probe.path);
    for (name, value) in headers {
        head.push_str(&format!("\r\n{name}: {value}"));
    }
    let answer = app
        .send_raw(closed(head))
        .await
        .unwrap_or_else(|e| panic!("GET {}: {e}", probe.path));
    let body: serde_json::Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|_| panic!("GET {}: not JSON: {answer:?}", probe.path));
    let expected: serde_json::Value = serde_json::from_str(probe.body).expect("a JSON probe");
    assert_eq!(
        (answer.status, &body),
        (probe.status, &expected),
        "GET {}",
        probe.path
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json"),
        "GET {}",
        probe.path
    );
    assert_eq!(
        answer.header("cache-control"),
        Some("no-store"),
        "GET {}",
        probe.path
    );
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
    let messages: Vec<_> = ipc.messages().into_iter().filter(ours).collect();
    let kinds: Vec<&str> = messages.iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, ["log", "end"], "/api/visits: {messages:#?}");
    let line = messages[0].log().expect("a log line");
    assert_eq!(
        (line.level.as_str(), line.text.as_str()),
        ("info", VISIT_LINE)
    );
}

#[tokio::test]
async fn the_example_project_builds_and_serves_its_routes_locally() {
    let binary = built().await;
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
    let binary = built().await;
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
