//! Section 10: the app on the after_response crate (bf2526c: one writer task per handle fed by
//! a bounded channel, a task per sink call) against the app just before it (its own write
//! queue, written by whichever submitter held the lock; built by `before.rs`). Two sides, the
//! one going first alternating per run, a fresh process per side and measurement: section 8's
//! load measurement (wrk at c=32 through the emulator), and section 2's paced latency of a fire
//! against the runtime's `/_vercel/ping` on the same process, storage 200 ms away.

use crate::billed::{Loaded, load_average, under_load};
use crate::layout::{Result, binary};
use crate::procs::Server;
use crate::stats::{median, summary};
use crate::storage::{Emulated, Slow};
use crate::{RUNS, before, client};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The last commit before after_response: the app's own queue in `src/store/queue.rs`.
const BEFORE: &str = "971ed3c";
/// How far storage is for the latency.
const STORAGE_AWAY: Duration = Duration::from_millis(200);
/// Paced as section 2: 4 keep-alive connections, one request every 5 ms each, 250 each.
const CONNECTIONS: usize = 4;
const PER_CONNECTION: usize = 250;
const EVERY: Duration = Duration::from_millis(5);

/// A figure of one run.
type Figure = dyn Fn(&Run) -> f64;

#[derive(Default)]
struct Run {
    load: Loaded,
    /// p50 and p90 in ms: `GET /api/wait-until`, then `/_vercel/ping`, on the same process.
    fire: [f64; 2],
    ping: [f64; 2],
}

pub fn section() -> Result<String> {
    let sides: [(&str, PathBuf); 2] = [
        ("ours", binary("main")?),
        ("before", before::main_binary(BEFORE)?),
    ];
    let emulated = Emulated::start();
    let slow = Slow::start(STORAGE_AWAY)?;
    let load_at_start = load_average();
    let started = Instant::now();
    let mut runs: [Vec<Run>; 2] = Default::default();
    for run in 0..RUNS {
        let order = if run % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut this: [Run; 2] = Default::default();
        for i in order {
            let (name, path) = &sides[i];
            this[i].load = under_load(path, &emulated, &format!("after-load-{name}-{run}"))?;
        }
        for i in order {
            let (name, path) = &sides[i];
            [this[i].fire, this[i].ping] =
                latency(path, &slow, &format!("after-latency-{name}-{run}"))?;
        }
        for (all, r) in runs.iter_mut().zip(this) {
            all.push(r);
        }
    }
    let took = started.elapsed().as_secs_f64() / 60.0;
    let mut out = format!(
        "{RUNS} runs, the two sides in turn at each measurement (the one going first alternating per run), a fresh process per side and measurement; {took:.0} minutes; load average {load_at_start} at the start, {} at the end. Ours: `main` from the working tree at {}; before: `main` at {BEFORE}, built in its own worktree.\n\n",
        load_average(),
        before::working_tree(),
    );
    report(&mut out, &runs);
    Ok(out)
}

/// p50 and p90 of a fire, then of the ping, paced, on one fresh process with storage
/// `STORAGE_AWAY` away.
fn latency(binary: &PathBuf, slow: &Slow, label: &str) -> Result<[[f64; 2]; 2]> {
    slow.reset();
    let server = Server::start(label, binary, &slow.env(&[]))?;
    let mut each = [[0.0; 2]; 2];
    for (k, path) in ["/api/wait-until", "/_vercel/ping"].iter().enumerate() {
        let warm = testkit::raw_http::get(server.port, path, &[], Duration::from_secs(5))?;
        if warm.status != 200 {
            return Err(format!("{label}: {path} answered {}", warm.status));
        }
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
        let times = client::paced(server.port, &request, CONNECTIONS, PER_CONNECTION, EVERY);
        if times.len() < CONNECTIONS * PER_CONNECTION {
            return Err(format!("{label}: {path} answered {} times", times.len()));
        }
        each[k] = [0.5, 0.9].map(|q| client::quantile(&times, q));
    }
    server.terminate(Duration::from_secs(10))?;
    Ok(each)
}

fn report(out: &mut String, runs: &[Vec<Run>; 2]) {
    let col = |i: usize, f: &Figure| runs[i].iter().map(f).collect::<Vec<_>>();
    let names = [
        "ours (after_response)".to_string(),
        format!("before ({BEFORE}, its own queue)"),
    ];
    *out += "Under load: wrk -t2 -c32 -d10s on /api/wait-until through the npm emulator to redis-server, counted after SIGTERM drained the process; CPU: the process' user + system time 1 s after wrk stopped, per fire (records stored + records in failure lines); records stored per storage call: success lines per `ZADD`; billed: every command Redis ran (section 8); peak RSS: `VmHWM` when wrk stopped.\n\n| | responses/s | fires | records failed | CPU µs per fire | records stored per storage call | billed commands per 1,000 fires | peak RSS MiB |\n|---|---|---|---|---|---|---|---|\n";
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            summary(&col(i, &|r| r.load.per_second), 0),
            summary(&col(i, &|r| r.load.fires), 0),
            summary(&col(i, &|r| r.load.failed), 0),
            summary(&col(i, &|r| r.load.cpu_us_per_fire), 1),
            summary(&col(i, &|r| r.load.stored_per_call), 1),
            summary(&col(i, &|r| r.load.billed.per_unit), 1),
            summary(&col(i, &|r| r.load.peak_mib), 1),
        );
    }
    let _ = write!(
        out,
        "\nA fire against the runtime's ping on the same process, storage {} ms away (the Upstash test double): paced, {CONNECTIONS} keep-alive connections, one request every {} ms each, {PER_CONNECTION} per connection, each timed by the client, after one warm-up request.\n\n| | /api/wait-until p50 ms | p90 ms | /_vercel/ping p50 ms | p90 ms | fire / ping, p50 |\n|---|---|---|---|---|---|\n",
        STORAGE_AWAY.as_millis(),
        EVERY.as_millis(),
    );
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} |",
            summary(&col(i, &|r| r.fire[0]), 3),
            summary(&col(i, &|r| r.fire[1]), 3),
            summary(&col(i, &|r| r.ping[0]), 3),
            summary(&col(i, &|r| r.ping[1]), 3),
            summary(&col(i, &|r| r.fire[0] / r.ping[0]), 2),
        );
    }
    *out += "\nOurs / before: the ratio of the medians, and each interleaved pair's ratio (median, min–max).\n\n| | ours / before | per pair |\n|---|---|---|\n";
    let rows: [(&str, &Figure); 8] = [
        ("responses/s at c=32", &|r| r.load.per_second),
        ("CPU per fire at c=32", &|r| r.load.cpu_us_per_fire),
        ("records per storage call", &|r| r.load.stored_per_call),
        ("billed commands per 1,000 fires", &|r| {
            r.load.billed.per_unit
        }),
        ("peak RSS at c=32", &|r| r.load.peak_mib),
        ("fire p50", &|r| r.fire[0]),
        ("fire p90", &|r| r.fire[1]),
        ("fire / ping, p50", &|r| r.fire[0] / r.ping[0]),
    ];
    for (what, f) in rows {
        let pairs: Vec<f64> = runs[0]
            .iter()
            .zip(&runs[1])
            .map(|(a, b)| f(a) / f(b))
            .collect();
        let ratio = median(&col(0, f)) / median(&col(1, f));
        let _ = writeln!(out, "| {what} | {ratio:.2}x | {} |", summary(&pairs, 2));
    }
    let unaccounted = |i: usize| col(i, &|r| r.load.unaccounted).iter().sum::<f64>();
    let _ = writeln!(
        out,
        "\nResponses not accounted for as stored or failed, all runs: {} / {}.",
        unaccounted(0),
        unaccounted(1)
    );
}
