//! The integration suite, one binary: the real `main` binary driven over HTTP (and in
//! production mode over Vercel's IPC socket), against real Redis behind the npm Upstash emulator
//! or behind our Upstash test double. The kit it uses is `testkit/`. One module per concern;
//! run one with `cargo test --test it <module>::`.

mod awaited;
mod coalescing;
mod consumer;
mod docs;
mod drain;
mod emulator;
mod exactly_once;
mod headers;
mod hostile;
mod in_process;
mod limits;
mod load;
mod local;
mod production;
mod properties;
mod replay;
mod route_builds;
mod settings;
mod source;
mod storage_faults;
mod vercel_dev;

use std::time::Duration;
use testkit::app::App;
use testkit::fake_upstash::FakeUpstash;
use testkit::redis::Redis;
use testkit::vercel_ipc::Ipc;
use testkit::within;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The binary under test.
const MAIN: &str = env!("CARGO_BIN_EXE_main");

/// Real Redis behind the Upstash test double, and the app in local mode pointed at it (with
/// `extra` settings, which win).
async fn behind_the_double(extra: &[(&str, &str)]) -> (Redis, FakeUpstash, App) {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    let app = App::start(MAIN, &[&fake.env()[..], extra].concat()).await;
    (redis, fake, app)
}

/// The [`KEEP`](wait_until::store::KEEP) greatest of `ids`, greatest first: the newest records
/// (v7 ids sort as the time they were made, which is each record's score), as the set must hold
/// them once all are written.
fn ten_newest<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
    let distinct: std::collections::BTreeSet<&String> = ids.into_iter().collect();
    let newest = distinct.into_iter().rev().take(wait_until::store::KEEP);
    newest.cloned().collect()
}

/// Real Redis behind the Upstash test double, answering every call after `delay`, and the app
/// in production mode pointed at it (with `extra` settings).
async fn behind_the_double_in_production(
    delay: Duration,
    extra: &[(&str, &str)],
) -> (Redis, FakeUpstash, App, Ipc) {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    fake.delay(delay);
    let (app, ipc) = App::start_in_production(MAIN, &[&fake.env()[..], extra].concat()).await;
    (redis, fake, app, ipc)
}

/// Runs the `replay` binary with `env` (the storage settings; no inherited ones) and `log` on
/// its stdin, in an empty working directory (so no `.env.local` is read); whether it succeeded,
/// and its stdout and stderr together. Killed if the test ends first.
async fn run_replay(env: &[(&str, &str)], log: &str) -> (bool, String) {
    use tokio::io::AsyncWriteExt;
    let workdir = testkit::TempDir::new("replay");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_replay"));
    for name in testkit::app::SCRUBBED {
        command.env_remove(name);
    }
    let mut child = command
        .envs(env.iter().copied())
        .current_dir(workdir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start replay");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(log.as_bytes())
        .await
        .expect("the log to replay");
    drop(stdin);
    let output = child.wait_with_output().await.expect("replay's output");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

/// Tests that keep both cores busy (thousands of requests) run alone, and the tests whose
/// assertions are timed (an answer within 100 ms, a write held in flight while others queue)
/// never run beside them: on two cores one would measure the other. Everything else runs
/// freely, as the test harness schedules it.
static CORES: RwLock<()> = RwLock::const_new(());

/// Waiting for [`CORES`]: the tests that hold them each end within their own limit.
const CORES_WITHIN: Duration = Duration::from_secs(600);

/// Held by a test that keeps both cores busy; taken before its deadline starts.
async fn busy_cores() -> RwLockWriteGuard<'static, ()> {
    within(CORES_WITHIN, "both cores to be free", CORES.write()).await
}

/// Held by a test whose assertions are timed; taken before its deadline starts.
async fn quiet_cores() -> RwLockReadGuard<'static, ()> {
    within(CORES_WITHIN, "the cores to be quiet", CORES.read()).await
}
