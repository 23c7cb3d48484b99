//! Section 9, why not axum: `#[bundled_api]` (the user example, `examples/routes`) against the
//! same routes as an axum `Router` on vercel_runtime's own `axum` feature (`bench/axum-routes`).
//!
//! Both are projects of their own (own workspace, own Cargo.lock), so each is built here with
//! `cargo build --release --locked --manifest-path …` into its own target directory under
//! `<target>/bench/`. Before measuring, both are asked the same paths and their answers compared;
//! then binary size, cold start (local mode, and production mode over Vercel's IPC socket), load
//! on three routes with wrk, peak RSS, and the in-process cost from the criterion bench, all
//! interleaved in one run.

use crate::layout::{Result, cmd, out_dir};
use crate::procs::Server;
use crate::stats::{median, summary};
use crate::wrk;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::raw_http::{self, Answer};
use testkit::vercel_ipc::{Context, Ipc, Received};

const RUNS: usize = crate::RUNS;
/// Cold starts per side and mode.
const STARTS: usize = 10;
/// wrk's connections and seconds per route and run.
const CONNECTIONS: u32 = 32;
const SECONDS: u32 = 5;

struct Side {
    label: &'static str,
    manifest: &'static str,
    binary: &'static str,
}

const SIDES: [Side; 2] = [
    Side {
        label: "bundled_api (examples/routes)",
        manifest: "examples/routes/Cargo.toml",
        binary: "example-routes",
    },
    Side {
        label: "axum + VercelLayer (bench/axum-routes)",
        manifest: "bench/axum-routes/Cargo.toml",
        binary: "axum-routes",
    },
];

/// The routes loaded with wrk: static, `[id]`, catch-all.
const LOADED: [(&str, &str); 3] = [
    ("static", "/api/hello"),
    ("[id]", "/api/users/1"),
    ("catch-all", "/api/docs/guides/setup"),
];

/// Loaded too, as a diagnostic, not a comparison (the answers differ): bundled_api's JSON 404
/// against axum's `text/plain` 400 (its `Path` rejection), the one answer of axum's that is not
/// JSON, so that VercelLayer sends it without the streaming path.
const NOT_JSON: &str = "/api/users/%ff";

/// The body of the large request (64 MiB) sent to a path no route serves.
const LARGE_BODY: usize = 64 << 20;

/// Paths both are asked before anything is measured: the example's own tests' paths, then the
/// edges where a router's rules show (trailing slashes, dot segments in `[id]`, bad escapes,
/// methods). A probe is a GET of that path unless it names its method.
const PROBES: &[&str] = &[
    "/api/hello",
    "/api/users/1",
    "/api/users/2",
    "/api/users/%31",
    "/api/users/3",
    "/api/users/abc",
    "/api/users/+1",
    "/api/users/-1",
    "/api/users/1.5",
    "/api/users/%201",
    "/api/users/99999999999999999999",
    "/api/docs/intro",
    "/api/docs/guides/getting%20started/step-1",
    "/api/docs/a%2Fb/c",
    "/",
    "/api",
    "/api/users",
    "/api/users/1/posts",
    "/api/docs",
    "/api/docs/../users/1",
    "/api/docs/%2e%2e/x",
    "/api/docs//x",
    "/api/_respond",
    "/api/hello/",
    "/api/users/1/",
    "/api/users/..",
    "/api/users/%ff",
    "/api/docs/%ff",
    "/api//hello",
    // The one probe that is not a GET: a route file answers every method.
    "POST /api/hello",
];

/// Builds one side in release into `<target>/bench/<binary>-target`; returns its binary.
fn build(side: &Side) -> Result<PathBuf> {
    let target = out_dir()?.join(format!("{}-target", side.binary));
    let target_arg = target.to_string_lossy().into_owned();
    println!("building {} into {target_arg}", side.manifest);
    let args = [
        "build",
        "--release",
        "--locked",
        "--manifest-path",
        side.manifest,
        "--target-dir",
        &target_arg,
    ];
    let built = cmd("cargo", &args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err(format!("building {} failed ({built})", side.manifest));
    }
    Ok(target.join("release").join(side.binary))
}

/// What the comparison holds equal in an answer: status, the decoded body, and the headers
/// both set. Framing (`content-length` or chunked) is reported apart.
#[derive(Debug, PartialEq)]
struct Seen {
    status: u16,
    body: String,
    headers: Vec<Option<String>>,
}

const COMPARED_HEADERS: [&str; 4] = [
    "content-type",
    "cache-control",
    "x-content-type-options",
    "referrer-policy",
];

impl Seen {
    fn of(answer: &Answer) -> Seen {
        let chunked = answer
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        Seen {
            status: answer.status,
            body: if chunked {
                dechunk(&answer.body)
            } else {
                answer.body.clone()
            },
            headers: COMPARED_HEADERS
                .iter()
                .map(|name| answer.header(name).map(str::to_string))
                .collect(),
        }
    }

    fn describe(&self) -> String {
        let headers: Vec<String> = COMPARED_HEADERS
            .iter()
            .zip(&self.headers)
            .filter_map(|(name, value)| Some(format!("{name}: {}", value.as_ref()?)))
            .collect();
        format!("{} `{}` ({})", self.status, self.body, headers.join(", "))
    }
}

/// The body of a chunked answer, without its framing.
fn dechunk(mut raw: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        body.push_str(&rest[..size]);
        raw = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    body
}

/// Both sides' answers to [`PROBES`]: the paths where they differ, and how each frames a 200.
fn compare_answers(binaries: &[PathBuf]) -> Result<String> {
    let servers = binaries
        .iter()
        .zip(&SIDES)
        .map(|(binary, side)| Server::start(&format!("axum-probe-{}", side.binary), binary, &[]))
        .collect::<Result<Vec<_>>>()?;
    let mut differ = Vec::new();
    let mut framing = [(0, 0), (0, 0)];
    for path in PROBES {
        let (method, target) = path.split_once(' ').unwrap_or(("GET", path));
        let request = format!("{method} {target} HTTP/1.1\r\nhost: localhost\r\ncontent-length: 0");
        let mut seen = Vec::new();
        for (i, server) in servers.iter().enumerate() {
            let answer = raw_http::send(
                server.port,
                &raw_http::closed(&request),
                Duration::from_secs(5),
            )
            .map_err(|e| format!("{} {path}: {e}", SIDES[i].label))?;
            if answer.status == 200 {
                if answer.header("content-length").is_some() {
                    framing[i].0 += 1;
                } else if answer.header("transfer-encoding").is_some() {
                    framing[i].1 += 1;
                }
            }
            seen.push(Seen::of(&answer));
        }
        if seen[0] != seen[1] {
            differ.push((*path, seen));
        }
    }
    for (path, _) in LOADED {
        if differ.iter().any(|(p, _)| *p == path) {
            return Err(format!(
                "the two answer {path} differently: nothing to compare"
            ));
        }
    }
    let mut out = format!(
        "Answers compared first, on {} paths (the example's tests' paths and the edges of each router; status, body, {}): the same on {}.",
        PROBES.len(),
        COMPARED_HEADERS.join(", "),
        PROBES.len() - differ.len()
    );
    if !differ.is_empty() {
        out += " Where they differ:\n\n| path | bundled_api | axum |\n|---|---|---|\n";
        for (path, seen) in &differ {
            let _ = writeln!(
                out,
                "| `{path}` | {} | {} |",
                seen[0].describe(),
                seen[1].describe()
            );
        }
    }
    let _ = write!(
        out,
        "\nFraming of the 200s: bundled_api `content-length` on {}, chunked on {}; axum `content-length` on {}, chunked on {}.\n\n",
        framing[0].0, framing[0].1, framing[1].0, framing[1].1
    );
    Ok(out)
}

/// Milliseconds from spawn to the first 200 on `/api/hello`, polled every 0.2 ms over a fresh
/// connection as the cold start section does. In production mode (`ipc`), as on Vercel: the
/// runtime connects to the IPC socket, the request goes to the port its `server-started` names
/// and carries Vercel's internal ids, and that request's `end` must follow.
fn cold_start(binary: &Path, production: bool) -> Result<f64> {
    let dir = testkit::TempDir::new("axum-cold");
    let ipc = production.then(|| Ipc::listen(dir.path()));
    let port = testkit::free_port();
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("VERCEL_DEV_PORT", port.to_string())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(ipc) = &ipc {
        command.env("VERCEL_IPC_PATH", &ipc.path);
    }
    let context = Context::new(1);
    let ids = context.headers();
    let headers: Vec<(&str, &str)> = match ipc {
        Some(_) => ids.iter().map(|(n, v)| (*n, v.as_str())).collect(),
        None => vec![],
    };
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("{binary:?}: {e}"))?;
    let result = (|| {
        let port = match &ipc {
            Some(ipc) => ipc
                .try_wait(Duration::from_secs(10), Received::http_port)
                .ok_or("no server-started within 10 s")?,
            None => port,
        };
        loop {
            let answer = raw_http::get(port, "/api/hello", &headers, Duration::from_secs(5));
            if answer.is_ok_and(|a| a.status == 200) {
                break;
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("{binary:?} never answered 200"));
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if let Some(ipc) = &ipc {
            ipc.try_wait(Duration::from_secs(5), |r| {
                r.ends().iter().any(|(c, _)| *c == context).then_some(())
            })
            .ok_or("the request's end message never came")?;
        }
        Ok(ms)
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// One load run of one side: a fresh process, wrk on each loaded route in turn, its peak RSS.
struct LoadRun {
    /// [`LOADED`] in order, then [`NOT_JSON`].
    loads: Vec<wrk::Load>,
    peak_mib: f64,
}

fn load(binary: &PathBuf, label: &str) -> Result<LoadRun> {
    let server = Server::start(label, binary, &[])?;
    let loads = LOADED
        .iter()
        .map(|(_, path)| *path)
        .chain([NOT_JSON])
        .map(|path| {
            wrk::run(
                &format!("http://127.0.0.1:{}{path}", server.port),
                CONNECTIONS,
                SECONDS,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let peak_mib = server.memory_kib("VmHWM") as f64 / 1024.0;
    Ok(LoadRun { loads, peak_mib })
}

/// A fresh process sent `POST /api/nope` with a [`LARGE_BODY`]: milliseconds to its answer's
/// status, and its peak RSS after.
fn large_body(binary: &PathBuf, label: &str) -> Result<[f64; 3]> {
    let server = Server::start(label, binary, &[])?;
    let mut request = raw_http::closed(format!(
        "POST /api/nope HTTP/1.1\r\nhost: localhost\r\ncontent-length: {LARGE_BODY}"
    ));
    request.resize(request.len() + LARGE_BODY, b'x');
    let started = Instant::now();
    let answer = raw_http::send(server.port, &request, Duration::from_secs(60))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let peak_mib = server.memory_kib("VmHWM") as f64 / 1024.0;
    Ok([answer.status as f64, ms, peak_mib])
}

/// `a / b`, with three decimals when small.
fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r < 0.1 {
        format!("{r:.3}x")
    } else {
        format!("{r:.2}x")
    }
}

pub fn section() -> Result<String> {
    let binaries = SIDES.iter().map(build).collect::<Result<Vec<_>>>()?;
    let mut out = compare_answers(&binaries)?;

    let size = |binary: &PathBuf| {
        std::fs::metadata(binary)
            .map(|m| m.len() as f64 / 1_048_576.0)
            .unwrap_or(f64::NAN)
    };
    // Interleaved: a start of each side in turn, each mode.
    let mut starts = [[vec![], vec![]], [vec![], vec![]]];
    for _ in 0..STARTS {
        for (mode, production) in [false, true].into_iter().enumerate() {
            for (i, binary) in binaries.iter().enumerate() {
                starts[mode][i].push(cold_start(binary, production)?);
            }
        }
    }
    let mut runs: [Vec<LoadRun>; 2] = [vec![], vec![]];
    for run in 0..RUNS {
        for (i, binary) in binaries.iter().enumerate() {
            runs[i].push(load(
                binary,
                &format!("axum-load-{}-{run}", SIDES[i].binary),
            )?);
        }
    }
    let mut large: [Vec<[f64; 3]>; 2] = [vec![], vec![]];
    for run in 0..RUNS {
        for (i, binary) in binaries.iter().enumerate() {
            large[i].push(large_body(
                binary,
                &format!("axum-large-{}-{run}", SIDES[i].binary),
            )?);
        }
    }
    let dispatch = crate::criterion("bench", "axum_dispatch", "axum/")?;

    let peak = |i: usize| runs[i].iter().map(|r| r.peak_mib).collect::<Vec<_>>();
    out += "Binary, start and memory: stripped release binaries (the same release profile); cold start from exec to the first 200 on `/api/hello`, 10 starts of each, alternating, in local mode (`VERCEL_DEV_PORT`, as `cargo run`) and in production mode (as Vercel runs it: over the IPC socket, with the test kit playing Vercel's side, the request sent to the port `server-started` names, and its `end` awaited); peak RSS of the process after the load below.\n\n";
    out += "| | stripped binary MiB | cold start, local ms | cold start, production (IPC) ms | peak RSS after load MiB |\n|---|---|---|---|---|\n";
    for (i, side) in SIDES.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {:.2} | {} | {} | {} |",
            side.label,
            size(&binaries[i]),
            summary(&starts[0][i], 2),
            summary(&starts[1][i], 2),
            summary(&peak(i), 1)
        );
    }
    let _ = writeln!(
        out,
        "| bundled_api / axum | {} | {} | {} | {} |",
        ratio(size(&binaries[0]), size(&binaries[1])),
        ratio(median(&starts[0][0]), median(&starts[0][1])),
        ratio(median(&starts[1][0]), median(&starts[1][1])),
        ratio(median(&peak(0)), median(&peak(1)))
    );

    let _ = write!(
        out,
        "\nLoad: wrk -t2 -c{CONNECTIONS} -d{SECONDS}s on each route in turn, {RUNS} runs, alternating sides, a fresh process per side and run.\n\n| route | bundled_api req/s | axum req/s | ratio | bundled_api p50 ms | axum p50 ms | ratio | bundled_api p99 ms | axum p99 ms | ratio | non-2xx or errors |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for (r, (name, path)) in LOADED.iter().enumerate() {
        let col = |i: usize, f: fn(&wrk::Load) -> f64| {
            runs[i]
                .iter()
                .map(|run| f(&run.loads[r]))
                .collect::<Vec<_>>()
        };
        let ratio = |f: fn(&wrk::Load) -> f64| ratio(median(&col(0, f)), median(&col(1, f)));
        let bad: u64 = runs
            .iter()
            .flatten()
            .map(|run| run.loads[r].non_2xx + run.loads[r].errors)
            .sum();
        let _ = writeln!(
            out,
            "| {name} `{path}` | {} | {} | {} | {} | {} | {} | {} | {} | {} | {bad} |",
            summary(&col(0, |l| l.per_second), 0),
            summary(&col(1, |l| l.per_second), 0),
            ratio(|l| l.per_second),
            summary(&col(0, |l| l.p50_ms), 3),
            summary(&col(1, |l| l.p50_ms), 3),
            ratio(|l| l.p50_ms),
            summary(&col(0, |l| l.p99_ms), 3),
            summary(&col(1, |l| l.p99_ms), 3),
            ratio(|l| l.p99_ms),
        );
    }

    let col = |i: usize, f: fn(&wrk::Load) -> f64| {
        runs[i]
            .iter()
            .map(|run| f(&run.loads[LOADED.len()]))
            .collect::<Vec<_>>()
    };
    let _ = write!(
        out,
        "\nDiagnostic, not a comparison (the answers differ), same runs: `{NOT_JSON}`, bundled_api's JSON 404 against axum's `text/plain` 400, which VercelLayer sends without its streaming path: bundled_api {} req/s, p50 {} ms; axum {} req/s, p50 {} ms.\n",
        summary(&col(0, |l| l.per_second), 0),
        summary(&col(0, |l| l.p50_ms), 3),
        summary(&col(1, |l| l.per_second), 0),
        summary(&col(1, |l| l.p50_ms), 3),
    );

    let _ = write!(
        out,
        "\nA large request to a path no route serves: `POST /api/nope` with a {} MiB body, a fresh process per side and run, {RUNS} runs, alternating.\n\n| | status | ms to the answer | peak RSS MiB |\n|---|---|---|---|\n",
        LARGE_BODY >> 20
    );
    for (i, side) in SIDES.iter().enumerate() {
        let col = |k: usize| large[i].iter().map(|r| r[k]).collect::<Vec<_>>();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            side.label,
            median(&col(0)),
            summary(&col(1), 1),
            summary(&col(2), 1)
        );
    }

    out += "\nIn process (criterion, `cargo bench -p bench --bench axum_dispatch -- axum/`, `bench/benches/axum_dispatch.rs`): a request to the built response, without vercel_runtime's per-request work. Ours as `#[bundled_api]`'s code does it (the table, `RouteParams`, the route's handler); axum's `Router`, `bench/axum-routes/src/routes.rs` itself, through `tower::ServiceExt::oneshot`.\n\n| route | bundled_api | axum Router | bundled_api / axum |\n|---|---|---|---|\n";
    for (name, path) in LOADED {
        let find = |who: &str| {
            dispatch
                .iter()
                .find(|(n, _)| n == &format!("axum/{who}/{name}"))
                .map(|(_, ns)| *ns)
                .unwrap_or(f64::NAN)
        };
        let (ours, theirs) = (find("ours"), find("axum"));
        let _ = writeln!(
            out,
            "| {name} `{path}` | {ours:.0} ns | {theirs:.0} ns | {} |",
            ratio(ours, theirs)
        );
    }
    Ok(out)
}
