//! The contract's last bullet, with the runtime's own shutdown: `vercel_runtime::run` serving
//! requests that submit items, then SIGTERM while the sink holds them. The runtime must wait for
//! every submitted item before `run` returns. Its own test binary: the signal goes to this
//! whole process, and no other test may be running in it.

use after_response::{AfterResponse, Sink};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};

/// Writes nothing until `OPEN` says so, then keeps what it was given.
struct Held;

static OPEN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::Sender::new(false));
static WRITTEN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

impl Sink for Held {
    type Item = u32;
    type Error = String;
    fn name(&self) -> &'static str {
        "held"
    }
    fn label(item: &u32) -> String {
        item.to_string()
    }
    fn can_retry(_: &String) -> bool {
        false
    }
    async fn write(&self, batch: &[u32]) -> Result<(), String> {
        let _ = OPEN.subscribe().wait_for(|open| *open).await;
        WRITTEN.lock().unwrap().extend(batch);
        Ok(())
    }
}

static AFTER: LazyLock<AfterResponse<Held>> = LazyLock::new(|| {
    let mut config = after_response::Config::default();
    // The sink holds for as long as the test says: no attempt may be cut short meanwhile.
    config.retry.attempt_timeout = Duration::from_secs(60);
    AfterResponse::with_config(Held, config).unwrap()
});

async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    let n: u32 = req
        .uri()
        .path()
        .trim_start_matches('/')
        .parse()
        .unwrap_or(0);
    AFTER.submit(&req, &state, n);
    Ok(Response::new(ResponseBody::from("submitted")))
}

/// One request over a fresh connection; its status line.
fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server listens");
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_string()
}

#[test]
fn drained_on_sigterm_every_submitted_item_is_written_before_run_returns() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    // SAFETY: set before the runtime (and any other thread of this test binary) starts.
    unsafe { std::env::set_var("VERCEL_DEV_PORT", port.to_string()) };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.spawn(run(service_fn(handler)));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for n in 1..=3 {
        assert_eq!(get(port, &format!("/{n}")), "HTTP/1.1 200 OK");
    }
    // Answered, and still held: nothing is written yet.
    assert!(WRITTEN.lock().unwrap().is_empty());
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(!server.is_finished(), "run returned with items still held");
    OPEN.send_replace(true);
    let finished =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(30), server).await });
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "run ends once the items are written"
    );
    let mut written = WRITTEN.lock().unwrap().clone();
    written.sort();
    assert_eq!(written, [1, 2, 3]);
}
