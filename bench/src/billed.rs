//! Section 8: what Upstash bills, side by side in one run. Billed commands are every command
//! Redis ran, those a script ran included (`INFO commandstats`, [`Redis::billed`]), per
//! fire one at a time, per click on the page and per 1,000 fires at c=32, with responses/s and
//! CPU per fire at c=32. Three sides, interleaved: the app from the working tree (a sorted set:
//! `ZADD` + `ZREMRANGEBYRANK` per write, `ZRANGE` per read), the official example's pattern
//! (`bench/src/bin/official_baseline.rs`: `LPUSH` + `LTRIM` per fire) and the app before the
//! sorted set (the merge script, built by `before.rs`). Its load measurement is also section
//! 10's (`after_response.rs`).

use crate::layout::{Result, binary};
use crate::procs::Server;
use crate::stats::{median, summary};
use crate::storage::{Emulated, Slow};
use crate::{RUNS, before, is_failure, is_stored, records_in, wrk};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};
use testkit::raw_http;
use testkit::redis::Redis;

/// The last commit before the sorted set: a write was one call of the Lua merge script
/// (`EVALSHA`, which runs `LRANGE`, `LLEN`, `PTTL`, `DEL` and `RPUSH` on the list
/// `requests:recent`), a read one `LRANGE`.
const BEFORE: &str = "9af22d9";

/// One at a time: this many fires (and, on the page, clicks) per run, each awaited, then a pause
/// this long.
const FIRES: usize = 20;
const PAUSE: Duration = Duration::from_millis(300);
/// How far storage is for the clicks.
const STORAGE_AWAY: Duration = Duration::from_millis(100);
/// Under load: wrk's connections and seconds.
const CONNECTIONS: u32 = 32;
const SECONDS: u32 = 10;

/// The poller of public/index.html, replicated (its line is checked by a test below): the first
/// read 25 ms after the fire's answer, each wait 1.6 times the one before, at most 1.5 s, counted
/// from the end of the read before; a record not seen within 8 s of the answer is given up on.
const POLL_FIRST_MS: f64 = 25.0;
const POLL_FACTOR: f64 = 1.6;
const POLL_MAX_MS: f64 = 1500.0;
const GIVE_UP_MS: f64 = 8000.0;

/// Upstash's pay as you go price: $0.20 per 100,000 commands.
const DOLLARS_PER_COMMAND: f64 = 0.20 / 100_000.0;

/// How a side's page looks for a fire's record.
#[derive(Clone, Copy)]
enum Reads {
    /// public/index.html: `/api/recent` on the poller's schedule, until it shows the record.
    Page,
    /// The official example's page: one read of its list this long after the answer. The
    /// baseline has no read route, so the bench sends the read's one command (`LRANGE
    /// requests:recent 0 9`) to storage itself.
    OnceAfter(Duration),
}

struct Side {
    /// In log file names.
    name: &'static str,
    label: String,
    binary: PathBuf,
    reads: Reads,
}

/// Billed commands per unit (a fire, a click, 1,000 fires), and what Redis ran, per unit.
#[derive(Default)]
pub struct Billed {
    pub per_unit: f64,
    commands: Vec<(String, f64)>,
}

impl Billed {
    /// What `redis` counted since its counters were reset, over `units`.
    fn of(redis: &Redis, units: f64) -> Billed {
        // One look at the counters for both figures.
        let stats = redis.command_stats();
        Billed {
            per_unit: stats.values().sum::<u64>() as f64 / units.max(1.0),
            commands: stats
                .into_iter()
                .map(|(name, calls)| (name, calls as f64 / units.max(1.0)))
                .collect(),
        }
    }
}

/// One run of wrk at c=32 against one binary.
#[derive(Default)]
pub struct Loaded {
    pub billed: Billed,
    pub per_second: f64,
    /// Records the app made: success lines plus the records in failure lines.
    pub fires: f64,
    pub failed: f64,
    /// Responses neither in a success line nor in a failure line.
    pub unaccounted: f64,
    pub cpu_us_per_fire: f64,
    /// Records stored (success lines) per write call storage counted (`Emulated::write_calls`).
    pub stored_per_call: f64,
    /// `VmHWM` when wrk stopped.
    pub peak_mib: f64,
}

#[derive(Default)]
struct Clicked {
    billed: Billed,
    reads: f64,
    seen: f64,
    /// The median, over the clicks seen, of the answer to the read that showed the record.
    visible_ms: f64,
}

#[derive(Default)]
struct Run {
    one: Billed,
    load: Loaded,
    clicks: Clicked,
}

pub fn section() -> Result<String> {
    let sides = [
        Side {
            name: "ours",
            label: "ours (sorted set)".into(),
            binary: binary("main")?,
            reads: Reads::Page,
        },
        Side {
            name: "official",
            label: "official example's pattern (LPUSH + LTRIM)".into(),
            binary: binary("official_baseline")?,
            reads: Reads::OnceAfter(Duration::from_millis(1200)),
        },
        Side {
            name: "before",
            label: format!("before ({BEFORE}, merge script)"),
            binary: before::main_binary(BEFORE)?,
            reads: Reads::Page,
        },
    ];
    let emulated = Emulated::start();
    let slow = Slow::start(STORAGE_AWAY)?;
    let load_at_start = load_average();
    let started = Instant::now();
    let mut runs: Vec<Vec<Run>> = sides.iter().map(|_| Vec::new()).collect();
    for run in 0..RUNS {
        let mut this: Vec<Run> = sides.iter().map(|_| Run::default()).collect();
        for (side, r) in sides.iter().zip(&mut this) {
            r.one = one_at_a_time(side, &emulated, &format!("billed-one-{}-{run}", side.name))?;
        }
        for (side, r) in sides.iter().zip(&mut this) {
            r.load = under_load(
                &side.binary,
                &emulated,
                &format!("billed-load-{}-{run}", side.name),
            )?;
        }
        for (side, r) in sides.iter().zip(&mut this) {
            r.clicks = clicks(side, &slow, &format!("billed-click-{}-{run}", side.name))?;
        }
        for (all, r) in runs.iter_mut().zip(this) {
            all.push(r);
        }
    }
    Ok(report(
        &sides,
        &runs,
        &load_at_start,
        &load_average(),
        started.elapsed(),
    ))
}

/// `FIRES` fires one at a time through the emulator, after one warm-up fire.
fn one_at_a_time(side: &Side, store: &Emulated, label: &str) -> Result<Billed> {
    store.reset();
    let server = Server::start(label, &side.binary, &store.env())?;
    // Not counted: the app's first connection and, for the merge script, its first call on this
    // Redis (`NOSCRIPT`, then `EVAL`), once per Redis, not per fire.
    fire(server.port)?;
    sleep(PAUSE);
    store.redis.reset_counters();
    for _ in 0..FIRES {
        fire(server.port)?;
        sleep(PAUSE);
    }
    let (out, _) = server.terminate(Duration::from_secs(10))?;
    let stored = out.lines().filter(|l| is_stored(l)).count();
    if stored != FIRES + 1 {
        return Err(format!("{label}: {stored} of {} fires stored", FIRES + 1));
    }
    Ok(Billed::of(&store.redis, FIRES as f64))
}

/// wrk at c=32 for 10 s on `binary` through the emulator, counted after SIGTERM drained the
/// process.
pub fn under_load(binary: &PathBuf, store: &Emulated, label: &str) -> Result<Loaded> {
    store.reset();
    let server = Server::start(label, binary, &store.env())?;
    let url = format!("http://127.0.0.1:{}/api/wait-until", server.port);
    let load = wrk::run(&url, CONNECTIONS, SECONDS)?;
    let peak_mib = server.memory_kib("VmHWM") as f64 / 1024.0;
    // The last writes land, then the process idles: its CPU time is the load's.
    sleep(Duration::from_secs(1));
    let cpu = server.cpu_seconds()?;
    let (out, err) = server.terminate(Duration::from_secs(180))?;
    let stored = out.lines().filter(|l| is_stored(l)).count() as f64;
    let failed: f64 = err
        .lines()
        .filter(|l| is_failure(l))
        .map(records_in)
        .sum::<f64>()
        + 0.0;
    let fires = stored + failed;
    Ok(Loaded {
        stored_per_call: stored / (store.write_calls() as f64).max(1.0),
        peak_mib,
        billed: Billed::of(&store.redis, fires / 1000.0),
        per_second: load.per_second,
        fires,
        failed,
        unaccounted: (load.requests as f64 - fires).max(0.0),
        cpu_us_per_fire: cpu * 1e6 / fires.max(1.0),
    })
}

/// `FIRES` clicks on the page, one at a time, storage 100 ms away, after one warm-up click.
fn clicks(side: &Side, slow: &Slow, label: &str) -> Result<Clicked> {
    slow.reset();
    let server = Server::start(label, &side.binary, &slow.env(&[]))?;
    click(server.port, side.reads, slow.url())?;
    sleep(PAUSE);
    slow.redis.reset_counters();
    let mut reads = 0;
    let mut visible = Vec::new();
    for _ in 0..FIRES {
        let (count, seen_after) = click(server.port, side.reads, slow.url())?;
        reads += count;
        visible.extend(seen_after);
        sleep(PAUSE);
    }
    server.terminate(Duration::from_secs(10))?;
    Ok(Clicked {
        billed: Billed::of(&slow.redis, FIRES as f64),
        reads: reads as f64 / FIRES as f64,
        seen: visible.len() as f64,
        visible_ms: median(&visible),
    })
}

/// One click: a fire, then the reads the page makes until it sees the record. Returns the
/// reads, and the ms from the fire's answer to the answer of the read that showed the record
/// (none if the page gave up).
fn click(port: u16, reads: Reads, storage_url: &str) -> Result<(u32, Option<f64>)> {
    let id = fire(port)?;
    let answered = Instant::now();
    let since = || answered.elapsed().as_secs_f64() * 1000.0;
    match reads {
        Reads::Page => {
            let mut delay = POLL_FIRST_MS;
            for count in 1.. {
                sleep(Duration::from_secs_f64(
                    delay.min(GIVE_UP_MS - since()).max(0.0) / 1000.0,
                ));
                delay = (delay * POLL_FACTOR).min(POLL_MAX_MS);
                let answer = raw_http::get(port, "/api/recent", &[], Duration::from_secs(10))?;
                if answer.status != 200 {
                    return Err(format!("/api/recent answered {}", answer.status));
                }
                if answer.body.contains(&id) {
                    return Ok((count, Some(since())));
                }
                if since() >= GIVE_UP_MS {
                    return Ok((count, None));
                }
            }
            unreachable!("the page reads until it sees the record or gives up")
        }
        Reads::OnceAfter(wait) => {
            sleep(wait);
            let list = read_official_list(storage_url)?;
            Ok((1, list.contains(&id).then(since)))
        }
    }
}

/// `GET /api/wait-until`: the record's id from the answer.
fn fire(port: u16) -> Result<String> {
    let answer = raw_http::get(port, "/api/wait-until", &[], Duration::from_secs(10))?;
    let body: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
    match (answer.status, body["id"].as_str()) {
        (200, Some(id)) => Ok(id.to_string()),
        (status, _) => Err(format!("a fire answered {status}: {}", answer.body)),
    }
}

/// The official example page's read, as its route sends it: `LRANGE requests:recent 0 9`.
fn read_official_list(url: &str) -> Result<String> {
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("no port in {url}"))?;
    let body = r#"["LRANGE","requests:recent","0","9"]"#;
    let mut request = raw_http::closed(format!(
        "POST / HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}",
        testkit::fake_upstash::READ_TOKEN,
        body.len()
    ));
    request.extend_from_slice(body.as_bytes());
    let answer = raw_http::send(port, &request, Duration::from_secs(10))?;
    match answer.status {
        200 => Ok(answer.body),
        status => Err(format!("LRANGE answered {status}: {}", answer.body)),
    }
}

/// `/proc/loadavg`'s 1-minute figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

fn report(
    sides: &[Side],
    runs: &[Vec<Run>],
    load_at_start: &str,
    load_at_end: &str,
    took: Duration,
) -> String {
    let col = |i: usize, f: &dyn Fn(&Run) -> f64| runs[i].iter().map(f).collect::<Vec<_>>();
    let med = |i: usize, f: &dyn Fn(&Run) -> f64| median(&col(i, f));
    let mut out = format!(
        "{RUNS} runs, each running the three sides in turn at each measurement, a fresh process per side and measurement; {:.0} minutes; load average {load_at_start} at the start, {load_at_end} at the end. Billed: every command Redis counted in `INFO commandstats` since its counters were reset (`CONFIG RESETSTAT`), those run by a script included, less the bench's own (`INFO`, `CONFIG RESETSTAT`): `testkit::redis::Redis::billed`. One at a time: {FIRES} fires of `GET /api/wait-until`, each awaited, {} ms apart, through the npm emulator to redis-server, after one warm-up fire not counted. Click: a fire and the page's reads until it shows the record, {FIRES} clicks {} ms apart, storage {} ms away (the Upstash test double, answering every call after 100 ms), after one warm-up click not counted. The page's poller is replicated in the bench, not run in a browser: the first read of `/api/recent` 25 ms after the fire's answer, each wait 1.6 times the one before, at most 1.5 s, from the end of the read before, as public/index.html (a test holds the bench to the page's constants). The official example's page reads its list once, 1.2 s after the answer: the bench sends that read's one command (`LRANGE requests:recent 0 9`) to storage itself, as the baseline has no read route. Under load: wrk -t2 -c{CONNECTIONS} -d{SECONDS}s on /api/wait-until through the emulator, counted after SIGTERM drained the process; CPU: the process' user + system time (`/proc/<pid>/stat`) 1 s after wrk stopped, per fire (records stored + records in failure lines). Ours: `main` from the working tree at {}; before: `main` at {}.\n\n",
        took.as_secs_f64() / 60.0,
        PAUSE.as_millis(),
        PAUSE.as_millis(),
        STORAGE_AWAY.as_millis(),
        before::working_tree(),
        BEFORE,
    );
    out += "| billed commands | per fire, one at a time | per click on the page | per 1,000 fires at c=32 |\n|---|---|---|---|\n";
    for (i, side) in sides.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            side.label,
            summary(&col(i, &|r| r.one.per_unit), 2),
            summary(&col(i, &|r| r.clicks.billed.per_unit), 2),
            summary(&col(i, &|r| r.load.billed.per_unit), 1),
        );
    }
    out += "\nWhat Redis ran, per unit of each column (medians; commands a script ran included):\n\n| | per fire, one at a time | per click on the page | per 1,000 fires at c=32 |\n|---|---|---|---|\n";
    for (i, side) in sides.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            side.label,
            commands(&runs[i], &|r| &r.one, 2),
            commands(&runs[i], &|r| &r.clicks.billed, 2),
            commands(&runs[i], &|r| &r.load.billed, 1),
        );
    }
    out += "\nThe page, per click (storage 100 ms away): reads of the list, clicks whose record the page saw, and the time from the fire's answer to the answer of the read that showed it (the median click of each run).\n\n| | reads per click | clicks seen | visible after ms |\n|---|---|---|---|\n";
    for (i, side) in sides.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} of {FIRES} | {} |",
            side.label,
            summary(&col(i, &|r| r.clicks.reads), 2),
            summary(&col(i, &|r| r.clicks.seen), 0),
            summary(&col(i, &|r| r.clicks.visible_ms), 0),
        );
    }
    let _ = write!(
        out,
        "\nUnder load (wrk -t2 -c{CONNECTIONS} -d{SECONDS}s):\n\n| | responses/s | fires | records failed | CPU µs per fire | billed commands per 1,000 fires |\n|---|---|---|---|---|---|\n"
    );
    for (i, side) in sides.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            side.label,
            summary(&col(i, &|r| r.load.per_second), 0),
            summary(&col(i, &|r| r.load.fires), 0),
            summary(&col(i, &|r| r.load.failed), 0),
            summary(&col(i, &|r| r.load.cpu_us_per_fire), 1),
            summary(&col(i, &|r| r.load.billed.per_unit), 1),
        );
    }
    // Ours (0) against the app before (2), per interleaved pair and of the medians.
    let pairs = |f: &dyn Fn(&Run) -> f64| {
        let each: Vec<f64> = runs[0]
            .iter()
            .zip(&runs[2])
            .map(|(a, b)| f(a) / f(b))
            .collect();
        summary(&each, 2)
    };
    let ratio = |f: &dyn Fn(&Run) -> f64| med(0, f) / med(2, f);
    let unaccounted: Vec<String> = (0..sides.len())
        .map(|i| format!("{}", col(i, &|r| r.load.unaccounted).iter().sum::<f64>()))
        .collect();
    let _ = write!(
        out,
        "\nOurs / before at c=32: responses/s {:.2}x (per interleaved pair {}); CPU per fire {:.2}x (per pair {}); billed commands per 1,000 fires {:.2}x. Responses not accounted for as stored or failed, all runs: {}.\n\n",
        ratio(&|r| r.load.per_second),
        pairs(&|r| r.load.per_second),
        ratio(&|r| r.load.cpu_us_per_fire),
        pairs(&|r| r.load.cpu_us_per_fire),
        ratio(&|r| r.load.billed.per_unit),
        unaccounted.join(" / "),
    );
    out += "A million fires on Upstash pay as you go ($0.20 per 100,000 commands), from the medians above:\n\n| | one at a time | each clicked on the page | at c=32 |\n|---|---|---|---|\n";
    for (i, side) in sides.iter().enumerate() {
        let dollars = |per_fire: f64| format!("${:.2}", per_fire * 1e6 * DOLLARS_PER_COMMAND);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            side.label,
            dollars(med(i, &|r| r.one.per_unit)),
            dollars(med(i, &|r| r.clicks.billed.per_unit)),
            dollars(med(i, &|r| r.load.billed.per_unit) / 1000.0),
        );
    }
    out
}

/// "`zadd` 1.00, `zremrangebyrank` 1.00": each command's median per unit over the runs.
fn commands(runs: &[Run], billed: &dyn Fn(&Run) -> &Billed, decimals: usize) -> String {
    let names: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| billed(r).commands.iter().map(|(name, _)| name.as_str()))
        .collect();
    let each: Vec<String> = names
        .into_iter()
        .map(|name| {
            let per_unit: Vec<f64> = runs
                .iter()
                .map(|r| {
                    let found = billed(r).commands.iter().find(|(n, _)| n == name);
                    found.map_or(0.0, |(_, per)| *per)
                })
                .collect();
            format!("`{name}` {:.decimals$}", median(&per_unit))
        })
        .collect();
    each.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_the_pages() {
        let page = include_str!("../../public/index.html");
        let line = format!(
            "const POLL_FIRST_MS = {POLL_FIRST_MS}, POLL_FACTOR = {POLL_FACTOR}, POLL_MAX_MS = {POLL_MAX_MS}, GIVE_UP_MS = {GIVE_UP_MS};"
        );
        assert!(page.contains(&line), "public/index.html has no {line}");
    }
}
