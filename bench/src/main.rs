//! The benchmarks of BENCHMARKS.md, each against a baseline run side by side in the same run,
//! medians of repeated runs. Not part of CI (minutes long, and a shared CI machine makes
//! absolute numbers meaningless); ratios are what to compare.
//!
//! Run it as `cargo xtask bench [WORD]`: that provisions redis-server, the npm emulator and wrk,
//! builds `main` and the baselines (`src/bin/`) in release, and runs this in release with WORD,
//! which keeps only the sections whose title holds it. The binaries measured are the ones next
//! to this executable, and for the billing and after_response sections the app as it was at an
//! older commit, which each builds from a git worktree of its commit (`before.rs`), and for the
//! axum section the two projects it compares, each built into its own target directory (`axum.rs`);
//! raw logs go to `<target>/bench/logs`, the report to `<target>/bench/report.md`. All traffic
//! stays on 127.0.0.1.

mod after_response;
mod axum;
mod before;
mod billed;
mod client;
mod layout;
mod procs;
mod stats;
mod storage;
mod wrk;

use layout::{Result, binary, cmd};
use procs::Server;
use stats::{median, summary};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result {
    layout::check_binaries()?;
    // `bench throughput` runs only the sections whose title holds that word.
    let only = std::env::args().nth(1).unwrap_or_default().to_lowercase();
    let mut report = String::from("# cargo xtask bench\n");
    for (title, bench) in [
        ("1. Dispatch", dispatch as fn() -> Result<String>),
        ("2. Off the critical path", off_the_critical_path),
        ("3. Throughput under load", throughput),
        ("4. Log volume under overload", overload),
        ("5. Cold start", cold_start),
        ("6. Footprint", footprint),
        ("7. A single fire when idle", idle_fire),
        (
            "8. What Upstash bills: the sorted set against the official example and the merge script",
            billed::section,
        ),
        (
            "9. Why not axum: bundled_api against vercel_runtime's axum feature",
            axum::section,
        ),
        (
            "10. The app on after_response against the app before it",
            after_response::section,
        ),
    ] {
        if !title.to_lowercase().contains(&only) {
            continue;
        }
        println!("== {title}");
        let section = bench()?;
        println!("{section}");
        let _ = write!(report, "\n## {title}\n\n{section}\n");
    }
    let out = layout::out_dir()?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("report.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}

/// Criterion, ours vs the legacy router rebuilt per request.
fn dispatch() -> Result<String> {
    let times = criterion("bundled_api", "dispatch", "dispatch/")?;
    let find = |n: &str| {
        times
            .iter()
            .find(|(t, _)| t.ends_with(n))
            .map(|(_, ns)| *ns)
            .unwrap_or(f64::NAN)
    };
    let mut out = String::from(
        "| routes | ours | legacy (router built per request) | ratio |\n|---|---|---|---|\n",
    );
    for table in ["2 routes", "10 routes, dynamic"] {
        let (ours, legacy) = (
            find(&format!("ours/{table}")),
            find(&format!("legacy/{table}")),
        );
        let _ = writeln!(
            out,
            "| {table} | {ours:.1} ns | {:.1} µs | {:.0}x |",
            legacy / 1000.0,
            legacy / ours
        );
    }
    Ok(out)
}

/// Runs the criterion benches of `package`'s bench target `bench` (e.g. `bundled_api`'s
/// `dispatch`, `bundled/benches/dispatch.rs`) whose names start with `group` (e.g. `dispatch/`),
/// and returns each one's name and its median estimate in ns.
fn criterion(package: &str, bench: &str, group: &str) -> Result<Vec<(String, f64)>> {
    let output = cmd(
        "cargo",
        &["bench", "-p", package, "--bench", bench, "--", group],
    )
    .output()
    .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "cargo bench failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut times: Vec<(String, f64)> = Vec::new();
    let mut name = String::new();
    for line in text.lines() {
        if line.starts_with(group) {
            name = line.split("  ").next().unwrap_or(line).trim().to_string();
        }
        if let Some(rest) = line.split("time:").nth(1) {
            let words: Vec<&str> = rest
                .trim()
                .trim_matches(['[', ']'])
                .split_whitespace()
                .collect();
            if let [_, _, mid, unit, ..] = words.as_slice() {
                let scale = match *unit {
                    "ps" => 1e-3,
                    "ns" => 1.0,
                    "µs" | "us" => 1e3,
                    "ms" => 1e6,
                    _ => f64::NAN,
                };
                times.push((name.clone(), mid.parse::<f64>().unwrap_or(f64::NAN) * scale));
            }
        }
    }
    Ok(times)
}

/// p50/p99 of `/api/wait-until` with storage 200 ms away, vs `/_vercel/ping` and vs awaiting.
///
/// Two views: paced (a fixed 800 requests/s, what a client waits) is the figure for the goal;
/// saturated (wrk, as fast as it can) shows what each request costs the server.
fn off_the_critical_path() -> Result<String> {
    let slow = storage::Slow::start(Duration::from_millis(200))?;
    let env = slow.env(&[]);
    let ours = Server::start("critical-ours", &binary("main")?, &env)?;
    let awaited = Server::start("critical-awaited", &binary("awaited_write")?, &env)?;
    let targets = [
        ("/api/wait-until (ours)", ours.port, "/api/wait-until"),
        ("/_vercel/ping (runtime)", ours.port, "/_vercel/ping"),
        (
            "/api/wait-until awaiting the write",
            awaited.port,
            "/api/wait-until",
        ),
    ];
    let mut paced: Vec<Vec<[f64; 2]>> = vec![vec![]; 3];
    let mut saturated: Vec<Vec<wrk::Load>> = vec![vec![]; 3];
    for _ in 0..RUNS {
        for (i, (_, port, path)) in targets.iter().enumerate() {
            let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
            let times = client::paced(*port, &request, 4, 250, Duration::from_millis(5));
            paced[i].push([
                client::quantile(&times, 0.5),
                client::quantile(&times, 0.99),
            ]);
        }
        for (i, (_, port, path)) in targets.iter().enumerate().take(2) {
            saturated[i].push(wrk::run(&format!("http://127.0.0.1:{port}{path}"), 8, 5)?);
        }
    }
    let column = |runs: &[[f64; 2]], k: usize| runs.iter().map(|r| r[k]).collect::<Vec<_>>();
    let mut out = String::from(
        "Storage: the Upstash test double answering every call after 200 ms. 5 runs, interleaved.\n\n",
    );
    out += "Paced: 4 keep-alive connections, one request every 5 ms each (800 requests/s), 250 per connection per run; each request timed by the client.\n\n";
    out += "| endpoint | p50 ms | p99 ms |\n|---|---|---|\n";
    for (i, (name, ..)) in targets.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {name} | {} | {} |",
            summary(&column(&paced[i], 0), 3),
            summary(&column(&paced[i], 1), 3)
        );
    }
    let p50 = |i: usize| median(&column(&paced[i], 0));
    let _ = write!(
        out,
        "\nours / ping (p50): {:.2}x (goal <= 1.5x); awaiting / ours (p50): {:.0}x (goal >= 50x)\n\n",
        p50(0) / p50(1),
        p50(2) / p50(0)
    );
    out += "Saturated: wrk -t2 -c8 -d5s (as fast as the server answers; with storage this slow nearly every record overflows the queue and ends as a failure line).\n\n";
    out += "| endpoint | p50 ms | p99 ms | req/s |\n|---|---|---|---|\n";
    for (i, runs) in saturated.iter().enumerate().take(2) {
        let col = |f: fn(&wrk::Load) -> f64| runs.iter().map(f).collect::<Vec<_>>();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            targets[i].0,
            summary(&col(|l| l.p50_ms), 3),
            summary(&col(|l| l.p99_ms), 3),
            summary(&col(|l| l.per_second), 0)
        );
    }
    drop((ours, awaited));
    Ok(out)
}

/// Storage 1 s away (the Upstash test double) at c=32: the write queue overflows, and the refused
/// records end in failure lines. Measures how many lines and bytes that costs per record.
fn overload() -> Result<String> {
    let slow = storage::Slow::start(Duration::from_secs(1))?;
    let env = slow.env(&[("WAIT_UNTIL_SUCCESS_LINES", "off")]);
    let mut runs: Vec<[f64; 5]> = Vec::new();
    for _ in 0..RUNS {
        let server = Server::start("overload", &binary("main")?, &env)?;
        let load = wrk::run(
            &format!("http://127.0.0.1:{}/api/wait-until", server.port),
            32,
            10,
        )?;
        let (_, err) = server.terminate(Duration::from_secs(180))?;
        let lines: Vec<&str> = err.lines().filter(|l| is_failure(l)).collect();
        let failed: f64 = lines.iter().map(|l| records_in(l)).sum::<f64>() + 0.0;
        runs.push([
            load.requests as f64,
            failed,
            lines.len() as f64,
            failed / (lines.len() as f64).max(1.0),
            err.len() as f64 / failed.max(1.0),
        ]);
    }
    let col = |i: usize, d: usize| summary(&runs.iter().map(|r| r[i]).collect::<Vec<_>>(), d);
    let mut out = String::from(
        "wrk -t2 -c32 -d10s on /api/wait-until, storage 1 s away (the Upstash test double), WAIT_UNTIL_SUCCESS_LINES=off, 5 runs, a fresh process per run; stderr counted after SIGTERM drained the process.\n\n",
    );
    out += "| responses | records failed | failure lines | records per line | stderr bytes per failed record |\n|---|---|---|---|---|\n";
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |",
        col(0, 0),
        col(1, 0),
        col(2, 0),
        col(3, 0),
        col(4, 0)
    );
    Ok(out)
}

/// Whether `line` is a success line: `[after-response] wrote <id> to <storage> (…)` since the
/// after_response crate (bf2526c; the official baseline prints it too), `[wait-until] stored
/// <id> in <storage> (…)` before it, which the older apps of sections 8 and 10 print.
pub fn is_stored(line: &str) -> bool {
    line.starts_with(testkit::lines::STORED) || line.starts_with("[wait-until] stored ")
}

/// Whether `line` is a failure line: the app's, old or new (the `event` is the same; the older
/// app's `storage` and `records` are now `sink` and `items`, `count` stayed), or the official
/// baseline's.
pub fn is_failure(line: &str) -> bool {
    line.contains(testkit::lines::WRITE_FAILED) || line.contains("Failed to store")
}

/// The records a failure line holds: ours groups them (`count`, in both formats); other lines
/// hold one.
fn records_in(line: &str) -> f64 {
    line.find('{')
        .and_then(|start| serde_json::from_str::<serde_json::Value>(&line[start..]).ok())
        .and_then(|value| value["count"].as_u64())
        .unwrap_or(1) as f64
}

/// c=32 for 10 s through the emulator to Redis: ours vs the official example's pattern.
fn throughput() -> Result<String> {
    let store = storage::Emulated::start();
    let mut rows: Vec<(&str, Vec<[f64; 10]>)> =
        vec![("ours", vec![]), ("official example", vec![])];
    for _ in 0..RUNS {
        for (label, name) in [(0, "main"), (1, "official_baseline")] {
            store.reset();
            let server =
                Server::start(&format!("throughput-{name}"), &binary(name)?, &store.env())?;
            let load = wrk::run(
                &format!("http://127.0.0.1:{}/api/wait-until", server.port),
                32,
                10,
            )?;
            let peak_mib = server.memory_kib("VmHWM") as f64 / 1024.0;
            let drain_started = Instant::now();
            let (out, err) = server.terminate(Duration::from_secs(180))?;
            let drained_s = drain_started.elapsed().as_secs_f64();
            let stored = out.lines().filter(|l| is_stored(l)).count() as f64;
            let failure_lines: Vec<&str> = err.lines().filter(|l| is_failure(l)).collect();
            let failed: f64 = failure_lines.iter().map(|l| records_in(l)).sum::<f64>() + 0.0;
            let calls = store.write_calls() as f64;
            let log_kib_per_1k =
                (out.len() + err.len()) as f64 / 1024.0 / (load.requests as f64 / 1000.0).max(1.0);
            rows[label].1.push([
                load.per_second,
                load.requests as f64,
                stored,
                failed,
                failure_lines.len() as f64,
                calls,
                stored / calls.max(1.0),
                peak_mib,
                drained_s,
                log_kib_per_1k,
            ]);
        }
    }
    let mut out = String::from(
        "wrk -t2 -c32 -d10s on /api/wait-until, emulator + redis-server, 5 runs each, alternating, a fresh process per run; counted after SIGTERM drained the process.\n\n",
    );
    out += "| | responses/s | responses | records stored | records failed | failure lines | storage calls (writes) | records stored per call | peak RSS MiB | drain after SIGTERM s | log KiB per 1k responses |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (name, runs) in &rows {
        let col = |i: usize, d: usize| summary(&runs.iter().map(|r| r[i]).collect::<Vec<_>>(), d);
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            col(0, 0),
            col(1, 0),
            col(2, 0),
            col(3, 0),
            col(4, 0),
            col(5, 0),
            col(6, 1),
            col(7, 1),
            col(8, 1),
            col(9, 1)
        );
    }
    let rps = |i: usize| median(&rows[i].1.iter().map(|r| r[0]).collect::<Vec<_>>());
    let unaccounted: f64 = rows[0]
        .1
        .iter()
        .map(|r| (r[1] - r[2] - r[3]).max(0.0))
        .sum();
    let _ = write!(
        out,
        "\nours / official (responses/s): {:.1}x (goal >= 2x); ours: responses not accounted for as stored or failed, all runs: {unaccounted}\n",
        rps(0) / rps(1)
    );
    Ok(out)
}

/// From exec to the first 200, 10 starts each.
fn cold_start() -> Result<String> {
    let mut out = String::from(
        "exec to the first 200 over a fresh connection, polled every 0.2 ms; 10 starts each, memory store.\n\n| binary and route | ms |\n|---|---|\n",
    );
    for (label, name, path) in [
        ("main /api/wait-until", "main", "/api/wait-until"),
        ("main /api/recent", "main", "/api/recent"),
        ("bare vercel_runtime hello /", "hello", "/"),
    ] {
        let mut times = Vec::new();
        for _ in 0..10 {
            let port = testkit::free_port();
            let started = Instant::now();
            let mut child = std::process::Command::new(binary(name)?)
                .env_clear()
                .env("VERCEL_DEV_PORT", port.to_string())
                .current_dir(std::env::temp_dir())
                .stdout(std::process::Stdio::null())
                .spawn()
                .map_err(|e| e.to_string())?;
            let answered = || testkit::raw_http::get(port, path, &[], Duration::from_secs(5));
            while answered().map(|answer| answer.status).ok() != Some(200) {
                if started.elapsed() > Duration::from_secs(10) {
                    return Err(format!("{label} never answered 200"));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = writeln!(out, "| {label} | {} |", summary(&times, 2));
    }
    Ok(out)
}

/// Binary size, and memory after 20k requests.
fn footprint() -> Result<String> {
    let size = |name: &str| {
        binary(name)
            .ok()
            .and_then(|path| std::fs::metadata(path).ok())
            .map(|m| m.len() as f64 / 1_048_576.0)
            .unwrap_or(f64::NAN)
    };
    let mut out = format!(
        "stripped release binaries: main {:.2} MiB, bare hello {:.2} MiB.\n\n",
        size("main"),
        size("hello")
    );
    out += "| binary | RSS after 20k requests MiB | peak RSS MiB |\n|---|---|---|\n";
    for (name, path) in [("main", "/api/wait-until"), ("hello", "/")] {
        let server = Server::start(&format!("footprint-{name}"), &binary(name)?, &[])?;
        let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
        let port = server.port;
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let r = request.clone();
                std::thread::spawn(move || client::keep_alive(port, &r, 5000))
            })
            .collect();
        let ok: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
        std::thread::sleep(Duration::from_millis(300));
        let _ = writeln!(
            out,
            "| {name} ({ok} × 200) | {:.1} | {:.1} |",
            server.memory_kib("VmRSS") as f64 / 1024.0,
            server.memory_kib("VmHWM") as f64 / 1024.0
        );
    }
    Ok(out)
}

/// An idle fire's write time vs one storage round trip.
fn idle_fire() -> Result<String> {
    let store = storage::Emulated::start();
    let port: u16 = store
        .url()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let body = r#"["ZRANGE","requests:newest","0","9","REV"]"#;
    let request = format!(
        "POST / HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        testkit::emulator::TOKEN,
        body.len()
    );
    let rtt = client::round_trips(port, &request, 21);
    let server = Server::start("idle", &binary("main")?, &store.env())?;
    for _ in 0..11 {
        testkit::raw_http::get(server.port, "/api/wait-until", &[], Duration::from_secs(5))?;
        std::thread::sleep(Duration::from_millis(300));
    }
    let (out, _) = server.terminate(Duration::from_secs(10))?;
    // "[after-response] wrote <id> to upstash (1 attempt, N ms)" (before bf2526c "[wait-until]
    // stored <id> in upstash (…)", the same ending), skipping the first: a cold client.
    let writes: Vec<f64> = out
        .lines()
        .filter_map(|l| l.rsplit(", ").next()?.strip_suffix(" ms)")?.parse().ok())
        .skip(1)
        .collect();
    Ok(format!(
        "| | ms |\n|---|---|\n| storage round trip (keep-alive POST to the emulator) | {} |\n| a single idle fire, response to stored (from its success line, whole ms) | {} |\n",
        summary(&rtt[1..], 2),
        summary(&writes, 0)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_in_the_app_s_formats_before_and_after_after_response() {
        assert!(is_stored(
            "[after-response] wrote 01ab to upstash (1 attempt, 3 ms)"
        ));
        assert!(is_stored(
            "[wait-until] stored 01ab in upstash (2 attempts, 131 ms)"
        ));
        assert!(!is_stored("[after-response] wrote"));
        let new = r#"{"event":"wait_until.write_failed","sink":"upstash","count":2,"items":[{},{}],"attempts":1,"error":"full"}"#;
        let old = r#"{"event":"wait_until.write_failed","storage":"upstash","count":3,"records":[{},{},{}],"attempts":1,"error":"full"}"#;
        let official = "[waitUntil] Failed to store request record: timeout";
        assert!(is_failure(new) && is_failure(old) && is_failure(official));
        assert_eq!([new, old, official].map(records_in), [2.0, 3.0, 1.0]);
    }
}
