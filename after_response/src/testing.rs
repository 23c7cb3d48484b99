//! What the unit tests share: a scripted sink, a log they can read, and a deadline.

use crate::log::RequestLog;
use crate::{AfterResponse, Config, Failure, Sink, Written};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A sink error; `retry` says whether another attempt can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestError {
    pub retry: bool,
}

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.retry { "down" } else { "refused" })
    }
}

/// What a call does: take this long, then end so. `Panic` panics instead.
pub type Step = (Duration, Result<(), TestError>);
pub const PANIC: Duration = Duration::from_secs(999_999);

/// A sink that records each batch and plays `script(call number, 1-based)` for each call.
pub struct Scripted {
    pub batches: Mutex<Vec<Vec<u64>>>,
    script: Box<dyn Fn(usize) -> Step + Send + Sync>,
}

impl Scripted {
    pub fn new(script: impl Fn(usize) -> Step + Send + Sync + 'static) -> Self {
        Self {
            batches: Mutex::default(),
            script: Box::new(script),
        }
    }

    /// Every call takes `latency` and succeeds.
    pub fn taking(latency: Duration) -> Self {
        Self::new(move |_| (latency, Ok(())))
    }

    pub fn batches(&self) -> Vec<Vec<u64>> {
        self.batches.lock().unwrap().clone()
    }
}

impl Sink for Scripted {
    type Item = u64;
    type Error = TestError;

    fn name(&self) -> &'static str {
        "scripted"
    }

    fn label(item: &u64) -> String {
        format!("n{item}")
    }

    fn can_retry(error: &TestError) -> bool {
        error.retry
    }

    async fn write(&self, batch: &[u64]) -> Result<(), TestError> {
        let call = {
            let mut batches = self.batches.lock().unwrap();
            batches.push(batch.to_vec());
            batches.len()
        };
        let (latency, result) = (self.script)(call);
        assert!(latency != PANIC, "the sink panicked on call {call}");
        tokio::time::sleep(latency).await;
        result
    }
}

pub type Lines = Arc<Mutex<Vec<String>>>;

/// A handle on `sink` with `config`.
pub fn handle(sink: Scripted, config: Config) -> AfterResponse<Scripted> {
    AfterResponse::with_config(sink, config).unwrap()
}

/// Writes `item` as a request would, its lines kept in `lines`.
pub async fn settle(
    handle: &AfterResponse<Scripted>,
    lines: &Lines,
    item: u64,
) -> Result<Written, Failure<TestError>> {
    crate::settle(&handle.shared, &RequestLog::Memory(lines.clone()), item).await
}

/// Submits `items` from as many tasks, `gap` apart; returns each one's outcome and when it
/// settled, counted from the first submit.
pub async fn settle_all(
    handle: &AfterResponse<Scripted>,
    lines: &Lines,
    items: impl IntoIterator<Item = u64>,
    gap: Duration,
) -> Vec<(Result<Written, Failure<TestError>>, Duration)> {
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for item in items {
        let (handle, lines) = (handle.clone(), lines.clone());
        tasks.push(tokio::spawn(async move {
            let outcome = settle(&handle, &lines, item).await;
            (outcome, started.elapsed())
        }));
        tokio::time::sleep(gap).await;
    }
    let mut settled = Vec::new();
    for task in tasks {
        settled.push(task.await.unwrap());
    }
    settled
}

/// The items of every failure line in `lines`, line by line.
pub fn failed(lines: &Lines) -> Vec<Vec<u64>> {
    lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|line| line.strip_prefix("error "))
        .map(|json| {
            let value: serde_json::Value = serde_json::from_str(json).unwrap();
            assert_eq!(value["count"], value["items"].as_array().unwrap().len());
            serde_json::from_value(value["items"].clone()).unwrap()
        })
        .collect()
}

/// The labels of every success line in `lines`.
pub fn written(lines: &Lines) -> Vec<String> {
    lines
        .lock()
        .unwrap()
        .iter()
        .filter_map(|line| line.strip_prefix("info [after-response] wrote "))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .collect()
}

/// A test's deadline on the paused clock: whenever every task waits, the clock jumps ahead, so
/// work that never settles fails by name in moments instead of hanging the suite.
pub async fn within<T>(what: &str, test: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(600), test).await {
        Ok(done) => done,
        Err(_) => panic!("{what}: still waiting after 600 s"),
    }
}
