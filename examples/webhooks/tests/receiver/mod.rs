//! A webhook receiver for the tests, on a loopback port: hand-written HTTP/1.1, one request per
//! connection.
//!
//! It records every delivery (its `Idempotency-Key` and body) and "acts" on a key once: the
//! first delivery of a key that gets this far is acted on, and any later one that gets as far
//! is counted as an attempt to act twice (and answered `200`, as the contract asks). A plan
//! decides, per delivery, whether it misbehaves instead: `503` without acting, refuse with
//! `422`, act and answer only after the sink's attempt timeout, or drop the connection before
//! or after acting. Once [`Receiver::heal`]ed it behaves.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A way to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `503`, without acting.
    Unavailable,
    /// `422`, without acting: a refusal, never worth a retry.
    Refuse,
    /// Acts, then answers `200` only after the sink has given up on the attempt.
    Late,
    /// Closes the connection without acting or answering.
    DropBefore,
    /// Acts, then closes the connection without answering.
    DropAfter,
}

/// What a delivery gets: given the event's `body` field and the number of this delivery of its
/// key (1 for the first), a fault or `None` for good behaviour.
pub type Plan = fn(&str, u32) -> Option<Fault>;

/// How late a [`Fault::Late`] answer comes: well past the sink's attempt timeout.
pub const LATE: Duration = Duration::from_secs(3);

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub key: Option<String>,
    pub body: String,
}

#[derive(Debug, Default)]
pub struct Record {
    /// Every request, in order of arrival.
    pub deliveries: Vec<Delivery>,
    /// What was acted on: key → the body of the delivery acted on.
    pub acted: HashMap<String, String>,
    /// Deliveries of a key already acted on that got as far as acting.
    pub acted_twice: usize,
    /// How often each fault was dealt.
    pub faults: HashMap<Fault, usize>,
    /// Deliveries per key so far.
    per_key: HashMap<String, u32>,
}

impl Record {
    /// Acts on `key` unless it was already; counts the attempt otherwise.
    fn act(&mut self, key: &str, body: &str) {
        if self.acted.contains_key(key) {
            self.acted_twice += 1;
        } else {
            self.acted.insert(key.to_string(), body.to_string());
        }
    }
}

pub struct Receiver {
    pub url: String,
    record: Arc<Mutex<Record>>,
    healthy: Arc<AtomicBool>,
    accepting: JoinHandle<()>,
}

impl Receiver {
    pub async fn start(plan: Plan) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
        let (record, healthy) = (Arc::default(), Arc::new(AtomicBool::new(false)));
        let accepting = tokio::spawn(accept(
            listener,
            plan,
            Arc::clone(&record),
            Arc::clone(&healthy),
        ));
        Receiver {
            url,
            record,
            healthy,
            accepting,
        }
    }

    /// From now on every delivery behaves.
    pub fn heal(&self) {
        self.healthy.store(true, Ordering::SeqCst);
    }

    pub fn record(&self) -> MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept(
    listener: TcpListener,
    plan: Plan,
    record: Arc<Mutex<Record>>,
    healthy: Arc<AtomicBool>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let (record, healthy) = (Arc::clone(&record), Arc::clone(&healthy));
        tokio::spawn(async move {
            // Bounded, so no connection outlives a test by much.
            let _ = tokio::time::timeout(
                Duration::from_secs(20),
                serve(stream, plan, &record, &healthy),
            )
            .await;
        });
    }
}

async fn serve(stream: TcpStream, plan: Plan, record: &Mutex<Record>, healthy: &AtomicBool) {
    let mut stream = BufReader::new(stream);
    let Some(delivery) = read_request(&mut stream).await else {
        return;
    };
    let lock = || record.lock().unwrap_or_else(|e| e.into_inner());
    let Some((key, fault)) = decide(&mut lock(), &delivery, plan, healthy) else {
        return answer(stream, "400 Bad Request").await;
    };
    match fault {
        None => {
            lock().act(&key, &delivery.body);
            answer(stream, "200 OK").await;
        }
        Some(Fault::Unavailable) => answer(stream, "503 Service Unavailable").await,
        Some(Fault::Refuse) => answer(stream, "422 Unprocessable Entity").await,
        Some(Fault::Late) => {
            lock().act(&key, &delivery.body);
            tokio::time::sleep(LATE).await;
            answer(stream, "200 OK").await;
        }
        Some(Fault::DropBefore) => drop(stream),
        Some(Fault::DropAfter) => {
            lock().act(&key, &delivery.body);
            drop(stream);
        }
    }
}

/// Records `delivery` and picks how to treat it: its key and fault, `None` without a key.
fn decide(
    record: &mut Record,
    delivery: &Delivery,
    plan: Plan,
    healthy: &AtomicBool,
) -> Option<(String, Option<Fault>)> {
    record.deliveries.push(delivery.clone());
    let key = delivery.key.clone()?;
    let count = record.per_key.entry(key.clone()).or_default();
    *count += 1;
    let event: Value = serde_json::from_str(&delivery.body).unwrap_or_default();
    let body = event["body"].as_str().unwrap_or_default();
    let fault = match healthy.load(Ordering::SeqCst) {
        true => None,
        false => plan(body, *count),
    };
    if let Some(fault) = fault {
        *record.faults.entry(fault).or_default() += 1;
    }
    Some((key, fault))
}

/// One request: its head, then `content-length` bytes of body.
async fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Delivery> {
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let (mut key, mut length) = (None, 0);
    loop {
        line.clear();
        if stream.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        match name.trim().to_ascii_lowercase().as_str() {
            "idempotency-key" => key = Some(value.trim().to_string()),
            "content-length" => length = value.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(Delivery {
        key,
        body: String::from_utf8(body).ok()?,
    })
}

async fn answer(mut stream: BufReader<TcpStream>, status: &str) {
    let head = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    // The sink may be gone (a late answer): nothing to do about it.
    let _ = stream.get_mut().write_all(head.as_bytes()).await;
    let _ = stream.get_mut().shutdown().await;
}
