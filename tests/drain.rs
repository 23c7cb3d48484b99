//! SIGTERM with 200 writes pending behind slow storage (the fault double delays every call by
//! 300 ms): the process drains them all before it exits. Counted at the storage side, per
//! record (writes may be batched into `LPUSH key r1 … rN`), each exactly once; and the app
//! printed a success line for each before it exited, so it also waited for storage's answers.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};
use support::app::App;
use support::fake_upstash::FakeUpstash;
use support::redis::Redis;

const FIRES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_right_after_200_fires_still_stores_all_200() {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    fake.delay(Duration::from_millis(300));
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = Arc::new(App::start(&env).await);

    let fires: Vec<_> = (0..FIRES)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.fire().await })
        })
        .collect();
    let mut fired = Vec::new();
    for fire in fires {
        fired.push(fire.await.expect("a fire answered 200"));
    }
    let app = Arc::into_inner(app).expect("no fire still holds the app");

    // The drain has work to do: the newest record cannot be stored yet, 300 ms after it queued.
    let stored_before = stored_ids(&app).len();
    assert!(stored_before < FIRES, "all {FIRES} stored before SIGTERM");

    // SIGTERM, then wait for the process to exit (a zombie until `terminate` reaps it), so that
    // its output can still be read.
    let pid = app_pid();
    let signalled = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill -TERM");
    assert!(sent.success());
    while !has_exited(pid) {
        assert!(
            signalled.elapsed() < Duration::from_secs(30),
            "no exit within 30 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained_in = signalled.elapsed();

    // Its last lines may still be in the pipe.
    let deadline = Instant::now() + Duration::from_secs(2);
    while stored_ids(&app).len() < FIRES && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut stored = stored_ids(&app);
    let stderr = app.stderr();
    let status = app.terminate().await;
    assert!(status.success(), "{status:?}");

    // Counted at the storage side: every fired record arrived, none twice, none unknown.
    let mut received: Vec<String> = fake.seen().iter().flat_map(|s| s.pushed_ids()).collect();
    received.sort();
    fired.sort();
    stored.sort();
    assert_eq!(received.len(), FIRES, "records received by storage");
    assert_eq!(received, fired, "every fired record reached storage");
    // And the app saw storage accept every one of them before it exited.
    assert_eq!(stored, fired, "a success line for every fired record");
    assert!(stderr.is_empty(), "{stderr:#?}");
    assert_eq!(redis.llen(), 10);
    println!(
        "{stored_before} of {FIRES} stored at SIGTERM; drained and exited in {drained_in:.2?}"
    );
}

fn stored_ids(app: &App) -> Vec<String> {
    app.stdout()
        .iter()
        .filter_map(|line| line.strip_prefix("[wait-until] stored "))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_string)
        .collect()
}

/// The app's pid: the child of this test process that runs the `main` binary.
fn app_pid() -> u32 {
    let main = std::fs::canonicalize(env!("CARGO_BIN_EXE_main")).expect("the main binary");
    let tasks = std::fs::read_dir("/proc/self/task").expect("/proc/self/task");
    let children: Vec<u32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            let pids: Vec<u32> = list
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            pids
        })
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).ok().as_ref() == Some(&main))
        .collect();
    assert_eq!(children.len(), 1, "one app child process: {children:?}");
    children[0]
}

/// Whether `pid` has exited: gone, or a zombie not yet reaped.
fn has_exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => true,
    }
}
