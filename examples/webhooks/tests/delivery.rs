//! Webhook delivery end to end: the real function binary and the real replay binary, against a
//! receiver on a loopback port (`receiver`), in both modes the function runs in: local (lines
//! on stdout and stderr) and production (over Vercel's IPC socket, lines attributed to their
//! requests; `testkit::vercel_ipc` plays the platform's side).
//!
//! What a user relies on, under a receiver that fails, answers late, drops connections before
//! and after acting, and refuses:
//! - every event ends in exactly one line: a success line (and then the receiver acted on it)
//!   or one failure line holding it; in production, in the log of the request that sent it,
//!   before that request's `end`;
//! - those failure lines, exported and fed to `webhooks-replay` once the receiver is healthy,
//!   deliver the rest; replaying again changes nothing;
//! - the receiver, keeping to the `Idempotency-Key`, acted on every event exactly once, with
//!   the body that was sent, and every delivery of a key carried the same body;
//! - with no `WEBHOOK_URL` every event is in a failure line, and replay delivers them.

mod receiver;

use receiver::{Fault, Receiver};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use testkit::app::{ANSWER_WITHIN, App, SCRUBBED};
use testkit::vercel_ipc::{Context, Ipc};
use testkit::{eventually, within};
use tokio::io::AsyncWriteExt;
use webhooks_example::{FAILED, MAX_BODY};

const FUNCTION: &str = env!("CARGO_BIN_EXE_webhooks");
const REPLAY: &str = env!("CARGO_BIN_EXE_webhooks-replay");

/// Events fired at once in each scenario.
const EVENTS: usize = 40;
/// The whole of one scenario: far above what it takes, far below forever.
const LIMIT: Duration = Duration::from_secs(150);
/// Every event's line: the writer's batches, one after the other, each within its bound.
const SETTLE_WITHIN: Duration = Duration::from_secs(90);
/// A run of the replay binary.
const REPLAY_WITHIN: Duration = Duration::from_secs(45);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Local,
    Production,
}

/// The misbehaving receiver's plan, by the test's event number (`event-<n>` in the body) and
/// the delivery number of its key. Every fault the sink must survive comes up in every run:
/// - `event-9` and `event-29` get a `503` every time: their batches run out of retries;
/// - `event-19` is refused with `422`: its batch fails at once, for good;
/// - on the first delivery only: `…1` gets a `503`, `…3` is acted on and answered late,
///   `…5` has its connection dropped before acting, `…7` after acting.
fn misbehaving(body: &str, delivery: u32) -> Option<Fault> {
    let n: usize = body.strip_prefix("event-")?.parse().ok()?;
    match (n, n % 10, delivery) {
        (9 | 29, _, _) => Some(Fault::Unavailable),
        (19, _, _) => Some(Fault::Refuse),
        (_, 1, 1) => Some(Fault::Unavailable),
        (_, 3, 1) => Some(Fault::Late),
        (_, 5, 1) => Some(Fault::DropBefore),
        (_, 7, 1) => Some(Fault::DropAfter),
        _ => None,
    }
}

fn healthy(_: &str, _: u32) -> Option<Fault> {
    None
}

/// Refuses the event whose body is `refuse-me`.
fn refusing(body: &str, _: u32) -> Option<Fault> {
    (body == "refuse-me").then_some(Fault::Refuse)
}

/// The function binary, running.
struct Function {
    mode: Mode,
    app: App,
    ipc: Option<Ipc>,
}

impl Function {
    /// Starts it delivering to `url`; with `None`, with no `WEBHOOK_URL`.
    async fn start(mode: Mode, url: Option<&str>) -> Function {
        match mode {
            Mode::Local => {
                let url = url.map(str::to_string);
                let app = App::start_in(FUNCTION, &[], move |_, command| {
                    command.env_remove("WEBHOOK_URL");
                    if let Some(url) = url {
                        command.env("WEBHOOK_URL", url);
                    }
                })
                .await;
                Function {
                    mode,
                    app,
                    ipc: None,
                }
            }
            Mode::Production => {
                // The kit adds variables only: a blank one is no URL, as an unset one is (the
                // local mode covers unset).
                let env = [("WEBHOOK_URL", url.unwrap_or(""))];
                let (app, ipc) = App::start_in_production(FUNCTION, &env).await;
                Function {
                    mode,
                    app,
                    ipc: Some(ipc),
                }
            }
        }
    }

    fn poster(&self) -> Poster {
        Poster {
            http: self.app.http.clone(),
            base: self.app.base.clone(),
            production: self.mode == Mode::Production,
        }
    }

    /// Fires `event-0` … `event-<EVENTS - 1>` at once; each event's id and number.
    async fn fire_all(&self) -> HashMap<String, usize> {
        let tasks: Vec<_> = (0..EVENTS)
            .map(|n| {
                let poster = self.poster();
                tokio::spawn(async move {
                    let (status, body) = poster.post(n, "/api/events", format!("event-{n}")).await;
                    assert_eq!(status, 202, "{body}");
                    (body["id"].as_str().expect("an id").to_string(), n)
                })
            })
            .collect();
        let mut fired = HashMap::new();
        for task in tasks {
            let (id, n) = task.await.expect("every event was accepted");
            assert!(fired.insert(id, n).is_none(), "an id answered twice");
        }
        fired
    }

    /// Waits until every event of `fired` has its line (in production: until every request has
    /// ended, which comes only after its lines), then stops the function with SIGTERM (it
    /// drains first) and reads every line it left.
    async fn settle(mut self, fired: &HashMap<String, usize>) -> Outcomes {
        match &self.ipc {
            Some(ipc) => {
                ipc.wait_for_ends(fired.len(), SETTLE_WITHIN).await;
            }
            None => {
                eventually(SETTLE_WITHIN, "a line for every event", || {
                    let done = self.outcomes().lined_ids().len() >= fired.len();
                    async move { done }
                })
                .await;
            }
        }
        assert!(
            self.app.terminate().await.success(),
            "the function exited cleanly"
        );
        self.outcomes()
    }

    /// The lines about events so far: the ones a user reads in the logs.
    fn outcomes(&self) -> Outcomes {
        let mut outcomes = Outcomes::default();
        match &self.ipc {
            None => {
                outcomes.exported.extend(self.app.stdout());
                outcomes.exported.extend(self.app.stderr());
                for line in self.app.stdout().iter().chain(&self.app.stderr()) {
                    outcomes.read(line, "", None);
                }
            }
            Some(ipc) => {
                let logs = ipc.logs();
                // As `vercel logs --json` exports them, newest first; replay reads `message`.
                for log in logs.iter().rev() {
                    let entry = json!({ "type": "log", "data": { "level": log.level, "message": log.text } });
                    outcomes.exported.push(entry.to_string());
                }
                let summary = json!({ "type": "summary", "pagination": { "hasMore": false } });
                outcomes.exported.push(summary.to_string());
                for log in &logs {
                    outcomes.read(&log.text, &log.level, log.context.clone());
                }
                // Nothing about an event reached stdout or stderr unattributed.
                for line in self.app.stdout().iter().chain(&self.app.stderr()) {
                    let stray = Outcomes::default().read(line, "", None);
                    assert!(!stray, "an unattributed line in production: {line}");
                }
            }
        }
        outcomes
    }
}

/// Sends requests to the function: as Vercel forwards them in production (with a request's
/// internal ids), plainly otherwise.
#[derive(Clone)]
struct Poster {
    http: reqwest::Client,
    base: String,
    production: bool,
}

impl Poster {
    /// `POST path` with `body`, as request number `n`: its status and JSON body.
    async fn post(&self, n: usize, path: &str, body: String) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        if self.production {
            for (name, value) in context(n).headers() {
                request = request.header(name, value);
            }
        }
        let response = within(
            ANSWER_WITHIN,
            format!("the answer to POST {path}"),
            request.send(),
        )
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status().as_u16();
        (status, testkit::app::json(response).await)
    }
}

/// The Vercel ids of request number `n`.
fn context(n: usize) -> Context {
    Context::new(n as u64 + 1)
}

/// The lines about events, read back.
#[derive(Default)]
struct Outcomes {
    /// Success lines: the event's id, and the request its line was attributed to.
    wrote: Vec<(String, Option<Context>)>,
    /// Failure lines, parsed, and the request each was attributed to.
    failures: Vec<(Value, Option<Context>)>,
    /// Every line as a user would export it.
    exported: Vec<String>,
}

impl Outcomes {
    /// Takes `line` in if it is about an event; says whether it was.
    fn read(&mut self, line: &str, level: &str, context: Option<Context>) -> bool {
        if let Some(rest) = line.strip_prefix(after_response::WROTE) {
            assert!(rest.contains(" to webhooks ("), "{line}");
            assert!(level.is_empty() || level == "info", "{level}: {line}");
            let id = rest.split(' ').next().unwrap_or_default().to_string();
            self.wrote.push((id, context));
            return true;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(parsed) if parsed["event"] == FAILED => {
                assert!(level.is_empty() || level == "error", "{level}: {line}");
                self.failures.push((parsed, context));
                true
            }
            _ => false,
        }
    }

    /// The ids of each failure line's items, checked against its `count`.
    fn failed_ids(line: &Value) -> Vec<String> {
        let items = line["items"].as_array().expect("items in a failure line");
        assert_eq!(line["count"], items.len(), "{line}");
        assert_eq!(line["sink"], "webhooks", "{line}");
        items
            .iter()
            .map(|item| item["id"].as_str().expect("an item's id").to_string())
            .collect()
    }

    /// How many lines each id has.
    fn lined_ids(&self) -> HashMap<String, usize> {
        let mut lines = HashMap::new();
        let ids = self.wrote.iter().map(|(id, _)| id.clone());
        let failed = self
            .failures
            .iter()
            .flat_map(|(line, _)| Self::failed_ids(line));
        for id in ids.chain(failed) {
            *lines.entry(id).or_default() += 1;
        }
        lines
    }

    /// Every event of `fired` has exactly one line, no line is about another, a success line
    /// means the receiver acted on it, and (in production) each line is in the log of a request
    /// it is about. Returns the ids held in failure lines.
    fn check(
        &self,
        fired: &HashMap<String, usize>,
        receiver: &Receiver,
        mode: Mode,
    ) -> HashSet<String> {
        let lined = self.lined_ids();
        for id in fired.keys() {
            assert_eq!(lined.get(id), Some(&1), "{id}: not exactly one line");
        }
        assert_eq!(
            lined.len(),
            fired.len(),
            "lines about events never fired: {lined:?}"
        );
        let record = receiver.record();
        for (id, _) in &self.wrote {
            assert!(
                record.acted.contains_key(id),
                "{id} reported written, never acted on"
            );
        }
        if mode == Mode::Production {
            for (id, attributed) in &self.wrote {
                assert_eq!(
                    attributed.as_ref(),
                    Some(&context(fired[id])),
                    "{id}'s line"
                );
            }
            for (line, attributed) in &self.failures {
                let ids = Self::failed_ids(line);
                let theirs: Vec<Context> = ids.iter().map(|id| context(fired[id])).collect();
                let attributed = attributed.as_ref().expect("an attributed failure line");
                assert!(
                    theirs.contains(attributed),
                    "{line} in {attributed:?}'s log"
                );
            }
        }
        self.failures
            .iter()
            .flat_map(|(line, _)| Self::failed_ids(line))
            .collect()
    }
}

/// Runs the replay binary on `input`, delivering to `url`: its exit status, stdout and stderr.
async fn replay(input: String, url: &str) -> (ExitStatus, String, String) {
    let mut command = tokio::process::Command::new(REPLAY);
    for name in SCRUBBED {
        command.env_remove(name);
    }
    command
        .env("WEBHOOK_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start the replay binary");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let run = async move {
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
        drop(stdin);
        child.wait_with_output().await.expect("the replay's output")
    };
    let output = within(REPLAY_WITHIN, "the replay binary to finish", run).await;
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (output.status, text(output.stdout), text(output.stderr))
}

/// Replays `outcomes`' export, as a user would after `vercel logs --json`, and checks it
/// delivered every event held in `failed` failure lines.
async fn replay_the_failures(outcomes: &Outcomes, failed: &HashSet<String>, receiver: &Receiver) {
    let (status, stdout, stderr) = replay(outcomes.exported.join("\n"), &receiver.url).await;
    assert!(status.success(), "{stdout}\n{stderr}");
    let lines = outcomes.failures.len();
    let found = format!(
        "replay: found {} events in {lines} failure lines (0 invalid, 0 unreadable, 0 duplicates skipped)",
        failed.len()
    );
    assert!(stdout.contains(&found), "{stdout}\n{stderr}");
    let delivered = format!("replay: delivered {} events (", failed.len());
    assert!(stdout.contains(&delivered), "{stdout}\n{stderr}");
}

/// The receiver acted on every event of `fired` exactly once, on the body sent for it, and
/// on nothing else; every delivery of one key carried the same body.
fn every_event_acted_on_once(fired: &HashMap<String, usize>, receiver: &Receiver) {
    let record = receiver.record();
    let acted: HashSet<&String> = record.acted.keys().collect();
    let expected: HashSet<&String> = fired.keys().collect();
    assert_eq!(
        acted, expected,
        "the receiver acted on other events than those fired"
    );
    for (id, n) in fired {
        let event: Value = serde_json::from_str(&record.acted[id]).expect("an event as JSON");
        assert_eq!(event["id"], id.as_str(), "{event}");
        assert_eq!(event["body"], format!("event-{n}"), "{event}");
    }
    let mut bodies: HashMap<&str, &str> = HashMap::new();
    for delivery in &record.deliveries {
        let key = delivery
            .key
            .as_deref()
            .expect("every delivery has an Idempotency-Key");
        let first = *bodies.entry(key).or_insert(&delivery.body);
        assert_eq!(first, delivery.body, "two bodies for {key}");
    }
}

async fn misbehaving_receiver(mode: Mode) {
    let receiver = Receiver::start(misbehaving).await;
    let function = Function::start(mode, Some(&receiver.url)).await;
    let fired = function.fire_all().await;
    let outcomes = function.settle(&fired).await;
    let failed = outcomes.check(&fired, &receiver, mode);
    {
        let record = receiver.record();
        eprintln!(
            "{mode:?}: {} written, {} in {} failure lines; {} deliveries, faults {:?}",
            outcomes.wrote.len(),
            failed.len(),
            outcomes.failures.len(),
            record.deliveries.len(),
            record.faults
        );
        for fault in [
            Fault::Unavailable,
            Fault::Refuse,
            Fault::Late,
            Fault::DropBefore,
            Fault::DropAfter,
        ] {
            assert!(record.faults.contains_key(&fault), "{fault:?} never dealt");
        }
    }
    for n in [9, 19, 29] {
        let id = fired.iter().find(|(_, m)| **m == n).expect("fired").0;
        assert!(
            failed.contains(id),
            "event-{n} always fails, yet no failure line holds it"
        );
    }

    receiver.heal();
    replay_the_failures(&outcomes, &failed, &receiver).await;
    every_event_acted_on_once(&fired, &receiver);
    // The late answers alone make the receiver see keys it acted on again (a retry or the
    // replay): its keeping to the key is what held it to once.
    let twice = receiver.record().acted_twice;
    assert!(twice >= 1, "no key came twice: the faults did not happen");

    // Replaying again delivers the same events under the same keys: nothing new is acted on.
    let deliveries = receiver.record().deliveries.len();
    replay_the_failures(&outcomes, &failed, &receiver).await;
    every_event_acted_on_once(&fired, &receiver);
    let record = receiver.record();
    assert_eq!(record.deliveries.len(), deliveries + failed.len());
    assert_eq!(record.acted_twice, twice + failed.len());
}

async fn without_webhook_url(mode: Mode) {
    let receiver = Receiver::start(healthy).await;
    let function = Function::start(mode, None).await;
    let fired = function.fire_all().await;
    let outcomes = function.settle(&fired).await;
    let failed = outcomes.check(&fired, &receiver, mode);
    assert_eq!(failed.len(), EVENTS, "every event is in a failure line");
    for (line, _) in &outcomes.failures {
        assert_eq!(
            line["error"], "set WEBHOOK_URL to the receiver's URL",
            "{line}"
        );
        assert_eq!(line["attempts"], 1, "a refusal is not retried: {line}");
    }
    assert!(receiver.record().deliveries.is_empty());

    replay_the_failures(&outcomes, &failed, &receiver).await;
    every_event_acted_on_once(&fired, &receiver);
    let record = receiver.record();
    assert_eq!((record.deliveries.len(), record.acted_twice), (EVENTS, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_a_misbehaving_receiver_loses_nothing_and_acts_once_after_replay() {
    let what = "local: 40 events through a misbehaving receiver, then replay";
    within(LIMIT, what, misbehaving_receiver(Mode::Local)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_a_misbehaving_receiver_loses_nothing_and_acts_once_after_replay() {
    let what = "production: 40 events through a misbehaving receiver, then replay";
    within(LIMIT, what, misbehaving_receiver(Mode::Production)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_without_webhook_url_every_event_is_in_a_failure_line_and_replay_delivers_it() {
    let what = "local: 40 events without WEBHOOK_URL, then replay";
    within(LIMIT, what, without_webhook_url(Mode::Local)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_without_webhook_url_every_event_is_in_a_failure_line_and_replay_delivers_it() {
    let what = "production: 40 events without WEBHOOK_URL, then replay";
    within(LIMIT, what, without_webhook_url(Mode::Production)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_refuses_what_it_cannot_take_and_awaits_delivery_on_request() {
    within(LIMIT, "the function's answers", async {
        let receiver = Receiver::start(refusing).await;
        let mut function = Function::start(Mode::Local, Some(&receiver.url)).await;
        let poster = function.poster();
        let app = &function.app;

        let get = app.get("/api/events").await;
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
        assert_eq!(get.headers()["cache-control"], "no-store");
        assert_eq!(testkit::app::json(get).await["error"], "use POST");
        let (status, _) = poster.post(0, "/api/other", "x".into()).await;
        assert_eq!(status, 404);
        let (status, body) = poster
            .post(0, "/api/events", "x".repeat(MAX_BODY + 1))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (413, Some("the body is larger than 16 KiB"))
        );
        let (status, _) = poster.post(0, "/api/events?await=2", "x".into()).await;
        assert_eq!(status, 400);
        // Without a length given: cut at the limit as it streams in.
        let chunk = "y".repeat(MAX_BODY / 2 + 1);
        let chunked = format!(
            "POST /api/events HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\
             connection: close\r\n\r\n{len:x}\r\n{chunk}\r\n{len:x}\r\n{chunk}\r\n0\r\n\r\n",
            len = chunk.len()
        );
        let answer = app.send_raw(chunked).await.expect("an answer");
        assert_eq!(answer.status, 413, "{}", answer.body);
        let mut not_text = b"POST /api/events HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\n\
                             connection: close\r\n\r\n"
            .to_vec();
        not_text.extend_from_slice(&[0xff, 0xfe]);
        let answer = app.send_raw(not_text).await.expect("an answer");
        assert_eq!(answer.status, 400, "{}", answer.body);
        assert!(
            answer.body.contains("the body is not UTF-8 text"),
            "{}",
            answer.body
        );

        // Awaited: delivered before the answer, or the receiver's refusal in it.
        let (status, body) = poster
            .post(0, "/api/events?await=1", "x".repeat(MAX_BODY))
            .await;
        assert_eq!(status, 200, "{body}");
        let id = body["id"].as_str().expect("an id").to_string();
        assert!(
            receiver.record().acted.contains_key(&id),
            "answered before delivery"
        );
        let (status, body) = poster
            .post(0, "/api/events?await=1", "refuse-me".into())
            .await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(body["error"], "the receiver refused the event: HTTP 422");
        let refused = body["id"].as_str().expect("an id").to_string();

        assert!(function.app.terminate().await.success());
        let outcomes = function.outcomes();
        assert_eq!(
            outcomes.wrote.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            [&id]
        );
        let failed: Vec<String> = outcomes
            .failures
            .iter()
            .flat_map(|(l, _)| Outcomes::failed_ids(l))
            .collect();
        assert_eq!(failed, [refused]);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_fails_when_it_finds_nothing_or_cannot_deliver() {
    within(LIMIT, "the replay's refusals", async {
        let receiver = Receiver::start(refusing).await;
        let (status, stdout, stderr) = replay("no failure here\n".into(), &receiver.url).await;
        assert!(!status.success(), "{stdout}");
        assert!(stderr.contains("nothing to deliver"), "{stderr}");

        let event = webhooks_example::Event::new("refuse-me".into());
        let line = json!({ "event": FAILED, "sink": "webhooks", "count": 1, "items": [event], "attempts": 1, "error": "x" });
        let (status, stdout, stderr) = replay(format!("2025-01-01 ERROR {line}\n"), &receiver.url).await;
        assert!(!status.success(), "{stdout}");
        assert!(stdout.contains("found 1 events in 1 failure lines"), "{stdout}");
        assert!(
            stderr.contains("delivered 0 of 1 events, then: the receiver refused the event: HTTP 422; nothing was lost, run it again"),
            "{stderr}"
        );
        assert!(receiver.record().acted.is_empty());
    })
    .await;
}
