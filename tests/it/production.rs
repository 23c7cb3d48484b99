//! The function as Vercel runs it: production mode, over the runtime's IPC socket.
//!
//! `testkit::vercel_ipc` plays the platform's side (the socket, the internal request ids, the
//! messages); the binary, the storage double in front of real Redis and the runtime are real.
//! What a user relies on there:
//! - a request's `end` (the platform's signal that the invocation is over) comes only after its
//!   own record has settled, also when records were coalesced into one storage call;
//! - each line about a record reaches that request's log, attributed to it, before its `end`:
//!   the failure line (error level) holding the whole record, the success line (info level,
//!   none with `WAIT_UNTIL_SUCCESS_LINES=off`);
//! - SIGTERM right after a burst: every request ends and every record is stored before exit;
//! - requests without the internal ids are still answered, and the ids are never stored or
//!   echoed.

use crate::{MAIN, behind_the_double_in_production, busy_cores, quiet_cores, ten_newest};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::app::App;
use testkit::lines::{failure_lines, records_of, stored_id};
use testkit::vercel_ipc::{Context, logs_of};
use testkit::{HEAVY_TEST_LIMIT, TEST_LIMIT, within};
use wait_until::store::KEEP;

/// Fires one request per context, all at once; returns each context's record id and the moment
/// its response arrived.
async fn fire_all(
    app: &Arc<App>,
    contexts: &[Context],
    user_agent: &str,
) -> HashMap<Context, (String, Instant)> {
    let tasks: Vec<_> = contexts
        .iter()
        .cloned()
        .map(|context| {
            let app = app.clone();
            let user_agent = user_agent.to_string();
            tokio::spawn(async move {
                let id = app.fire_as(&context, &[("user-agent", &user_agent)]).await;
                (context, (id, Instant::now()))
            })
        })
        .collect();
    let mut fired = HashMap::new();
    for task in tasks {
        let (context, answer) = task.await.expect("a fire answered 200");
        fired.insert(context, answer);
    }
    fired
}

fn contexts(range: std::ops::Range<u64>) -> Vec<Context> {
    range.map(Context::new).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_end_comes_after_its_own_record_settled_even_when_records_share_a_call() {
    let _timed = quiet_cores().await;
    within(TEST_LIMIT, "twelve records stored, twelve ends", async {
        let (redis, fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &[]).await;
        let app = Arc::new(app);

        // Storage held while the twelve fire: the first record's call waits there, the other
        // eleven queue behind it; released, they go out together, in a call that carries their
        // ten newest (the eleventh could not be kept, and settles with that call).
        let held = fake.hold();
        let fired = fire_all(&app, &contexts(1..13), "prod-test").await;
        fake.wait_for_calls(1, Duration::from_secs(5)).await;
        assert!(
            ipc.ends().is_empty(),
            "a request ended before its record was stored"
        );
        held.release();
        let ends = ipc
            .wait_for_ends(fired.len(), Duration::from_secs(15))
            .await;
        let logs = ipc.logs();

        // When storage answered each record (the storage side's clock, before the app could know):
        // the call that carried it; for a record no call carried, the first call that carried
        // ten records all newer than it, which its batch's call must be.
        let answered = fake.answered();
        assert!(answered.iter().all(|call| call.is_write()), "{answered:?}");
        let mut settled_at = HashMap::new();
        for call in &answered {
            for id in call.written_ids() {
                assert!(
                    settled_at.insert(id.clone(), call.at).is_none(),
                    "{id} written twice"
                );
            }
        }
        let settled_with_newer = |id: &String| {
            answered
                .iter()
                .filter(|call| {
                    let carried = call.written_ids();
                    carried.len() == KEEP && carried.iter().all(|newer| newer > id)
                })
                .map(|call| call.at)
                .min()
        };
        assert!(
            answered.iter().any(|call| call.written_ids().len() > 1),
            "no storage call carried more than one record: nothing was coalesced"
        );
        assert_eq!(ends.len(), fired.len(), "one end per request: {ends:?}");
        for (context, ended_at) in &ends {
            let (id, responded_at) = &fired[context];
            let settled = settled_at
                .get(id)
                .copied()
                .or_else(|| settled_with_newer(id))
                .unwrap_or_else(|| panic!("{id} never reached storage"));
            assert!(
                *ended_at >= settled,
                "{context:?} ended before its record {id} was stored"
            );
            assert!(
                ended_at >= responded_at,
                "{context:?} ended before its response"
            );
            let lines = logs_of(&logs, context);
            assert_eq!(lines.len(), 1, "{context:?}: {lines:?}");
            assert_eq!(lines[0].level, "info");
            assert!(
                lines[0]
                    .text
                    .starts_with(&format!("[after-response] wrote {id} to upstash")),
                "{:?}",
                lines[0].text
            );
            assert!(
                lines[0].at <= *ended_at,
                "{context:?}: logged after its end"
            );
        }
        // The set holds the ten newest of the twelve.
        let ids: Vec<String> = fired.values().map(|(id, _)| id.clone()).collect();
        assert_eq!(redis.ids(), ten_newest(&ids));
        println!(
            "{} records in {} calls, {} of them carried by none (ten newer in their batch)",
            ids.len(),
            answered.len(),
            ids.len() - settled_at.len()
        );
        // Nothing about these requests went to raw stdout/stderr, where it would be unattributed.
        assert!(app.stderr().is_empty(), "{:?}", app.stderr());
        assert!(
            !app.stdout().iter().any(|l| l.starts_with("[wait-until]")),
            "{:?}",
            app.stdout()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_storage_down_each_request_gets_its_failure_line_before_its_end() {
    within(TEST_LIMIT, "five failure lines, five ends", async {
        // Nothing listens on this port: every attempt fails to connect, and is retried.
        let down = format!("http://127.0.0.1:{}", testkit::free_port());
        let env = [
            ("KV_REST_API_URL", down.as_str()),
            ("KV_REST_API_TOKEN", "token"),
        ];
        let (app, ipc) = App::start_in_production(MAIN, &env).await;
        let app = Arc::new(app);
        let fired = fire_all(&app, &contexts(1..6), "kept for replay").await;
        let ends = ipc
            .wait_for_ends(fired.len(), Duration::from_secs(30))
            .await;
        let logs = ipc.logs();

        for (context, ended_at) in &ends {
            let (id, _) = &fired[context];
            let lines = logs_of(&logs, context);
            assert_eq!(lines.len(), 1, "{context:?}: {lines:?}");
            let line = lines[0];
            assert_eq!(line.level, "error", "{line:?}");
            assert!(
                line.at <= *ended_at,
                "{context:?}: failure line after its end"
            );
            let parsed = failure_lines(std::slice::from_ref(&line.text));
            assert_eq!(parsed.len(), 1, "not a failure line: {:?}", line.text);
            let records = records_of(&parsed);
            assert_eq!(records.len(), 1);
            let record = &records[0];
            assert_eq!(record["id"], id.as_str());
            assert_eq!(record["method"], "GET");
            assert_eq!(record["userAgent"], "kept for replay");
            assert!(record["timestamp"].as_u64().is_some(), "{record}");
            assert_eq!(parsed[0]["attempts"], 4, "retried as a storage outage");
            assert!(
                !line.text.contains("token"),
                "a secret in the line: {}",
                line.text
            );
        }
        assert_eq!(ends.len(), fired.len());
        assert!(
            app.failure_lines().is_empty(),
            "failure lines on raw stderr"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_success_lines_off_a_stored_record_leaves_no_line() {
    within(TEST_LIMIT, "three stored records, no lines", async {
        let off = [("WAIT_UNTIL_SUCCESS_LINES", "off")];
        let (redis, _fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &off).await;
        let app = Arc::new(app);
        let fired = fire_all(&app, &contexts(1..4), "quiet").await;
        // A request ends only once its record has settled, and its line would come first.
        ipc.wait_for_ends(fired.len(), Duration::from_secs(10))
            .await;
        let ids: Vec<String> = fired.values().map(|(id, _)| id.clone()).collect();
        assert_eq!(redis.ids(), ten_newest(&ids), "all three stored");
        let logs = ipc.logs();
        assert!(logs.is_empty(), "lines in the requests' logs: {logs:?}");
        assert!(app.stored_ids().is_empty() && app.failure_lines().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_right_after_100_fires_ends_every_request_and_stores_every_record_first() {
    within(TEST_LIMIT, "100 held requests drained", async {
        let (redis, fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &[]).await;
        let held = fake.hold();
        let app = Arc::new(app);
        let fired = fire_all(&app, &contexts(1..101), "drain").await;
        let mut app = Arc::into_inner(app).expect("no fire still holds the app");

        // The drain has all the work to do: storage holds the first write, the rest wait behind
        // it, and no request has ended. The process must not exit while it is so; released, it
        // drains.
        fake.wait_for_calls(1, Duration::from_secs(5)).await;
        assert!(
            ipc.ends().is_empty(),
            "a request ended before its record was stored"
        );
        let status = app
            .sigterm_while_held(held, || {
                assert!(
                    ipc.ends().is_empty(),
                    "a request ended before its record was stored"
                )
            })
            .await;
        assert!(status.success(), "{status:?}");
        ipc.wait_closed(Duration::from_secs(5)).await;

        let ends = ipc.ends();
        let mut ended: Vec<&Context> = ends.iter().map(|(c, _)| c).collect();
        ended.sort_by_key(|c| c.request_id);
        ended.dedup();
        assert_eq!(ended.len(), fired.len(), "every request ended exactly once");
        assert_eq!(ends.len(), fired.len(), "no request ended twice");
        // Every record stored before exit: its request's own log holds its success line, which
        // the app prints once storage accepted its batch.
        let logs = ipc.logs();
        for (context, (id, _)) in &fired {
            let lines = logs_of(&logs, context);
            assert!(
                lines.len() == 1
                    && lines[0].level == "info"
                    && lines[0]
                        .text
                        .starts_with(&format!("[after-response] wrote {id} to upstash")),
                "{context:?}: {lines:?}"
            );
        }
        // And storage holds the ten newest of the hundred; nothing it was sent is unknown.
        let ids: Vec<String> = fired.values().map(|(id, _)| id.clone()).collect();
        assert!(
            fake.seen()
                .iter()
                .flat_map(|call| call.written_ids())
                .all(|id| ids.contains(&id)),
            "a record that was never fired reached storage"
        );
        assert_eq!(redis.ids(), ten_newest(&ids));
        println!(
            "100 requests drained in {} storage calls",
            fake.seen().len()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_internal_ids_are_answered_and_the_ids_are_never_stored_or_echoed() {
    within(TEST_LIMIT, "three records stored, one end", async {
        let (redis, _fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &[]).await;

        // Without ids (and with ids the runtime cannot parse): answered, logged to stdout.
        let bare = app.fire().await;
        let unparsable = app
            .fire_with(&[
                ("x-vercel-internal-invocation-id", "inv-x"),
                ("x-vercel-internal-request-id", "not-a-number"),
            ])
            .await;
        for id in [&bare, &unparsable] {
            app.wait_for_stdout(
                |line| line.starts_with(&format!("[after-response] wrote {id}")),
                Duration::from_secs(5),
            )
            .await;
        }

        // With distinctive ids: attributed, but neither stored nor echoed.
        let context = Context {
            invocation_id: "inv-MARKER-7f3a".into(),
            request_id: 424242424242,
        };
        let headers = context.headers();
        let sent: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app.fire_for_response(&sent).await;
        assert_eq!(response.status(), 200);
        let echoed: Vec<String> = response
            .headers()
            .iter()
            .map(|(name, value)| format!("{name}: {}", String::from_utf8_lossy(value.as_bytes())))
            .collect();
        let body = response.text().await.expect("a body");
        for marker in ["MARKER-7f3a", "424242424242", "x-vercel-internal"] {
            assert!(!body.contains(marker), "{marker} echoed in {body}");
            assert!(
                !echoed.iter().any(|h| h.contains(marker)),
                "{marker} echoed in {echoed:?}"
            );
        }
        let ends = ipc.wait_for_ends(1, Duration::from_secs(5)).await;
        assert_eq!(ends.len(), 1, "only the request with ids ends over IPC");
        assert_eq!(ends[0].0, context);

        let entries = redis.entries();
        assert_eq!(entries.len(), 3, "{entries:?}");
        for entry in &entries {
            for marker in ["MARKER-7f3a", "424242424242", "inv-x", "not-a-number"] {
                assert!(!entry.contains(marker), "{marker} stored: {entry}");
            }
        }
        assert!(app.stderr().is_empty(), "{:?}", app.stderr());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_overload_failures_are_grouped_and_every_record_is_still_accounted_for() {
    let _alone = busy_cores().await;
    within(HEAVY_TEST_LIMIT, "3000 requests settled, ended", async {
        const FIRES: u64 = 3000;
        // Storage held until the queue (2000 records) has filled behind the first call and a
        // fire beyond it was refused. Success lines on: a write carries only its batch's ten
        // newest records, so the app's line is what says each record was stored.
        let (redis, fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &[]).await;
        let held = fake.hold();
        let app = Arc::new(app);

        // 64 workers, each firing its share of the contexts one after another.
        let workers: Vec<_> = (0..64u64)
            .map(|worker| {
                let app = app.clone();
                tokio::spawn(async move {
                    let mut fired = Vec::new();
                    for n in (1..=FIRES).filter(|n| n % 64 == worker) {
                        let context = Context::new(n);
                        let id = app.fire_as(&context, &[]).await;
                        fired.push((context, id));
                    }
                    fired
                })
            })
            .collect();
        // The queue has overflowed once a failure line comes (nothing can be stored while held).
        ipc.wait_for(Duration::from_secs(60), "the overflow's first line", |r| {
            let overflowed = r
                .messages
                .iter()
                .filter_map(|m| m.log())
                .find(|line| line.level == "error");
            overflowed.map(|_| ())
        })
        .await;
        held.release();
        let mut fired = HashMap::new();
        for worker in workers {
            fired.extend(worker.await.expect("every fire answered 200"));
        }
        let ends = ipc
            .wait_for_ends(fired.len(), Duration::from_secs(40))
            .await;
        let ended_at: HashMap<Context, Instant> = ends.into_iter().collect();
        assert_eq!(ended_at.len(), fired.len(), "one end per request");

        // Every record is either stored (its own success line, in its request's log) or in
        // exactly one failure line, and that line came before its request's end.
        let logs = ipc.logs();
        let mut stored_in = HashMap::new();
        let mut failed_in = HashMap::new();
        let mut lines = 0;
        for line in &logs {
            if line.level == "info" {
                let id = stored_id(&line.text)
                    .unwrap_or_else(|| panic!("not a success line: {:?}", line.text));
                let context = line.context.clone().expect("a success line is attributed");
                assert_eq!(fired[&context], id, "{context:?}: another request's record");
                assert!(
                    stored_in.insert(id.to_string(), line.at).is_none(),
                    "{id} reported stored twice"
                );
                continue;
            }
            assert_eq!(line.level, "error", "{line:?}");
            let parsed = failure_lines(std::slice::from_ref(&line.text));
            assert_eq!(parsed.len(), 1, "not a failure line: {:?}", line.text);
            lines += 1;
            for record in records_of(&parsed) {
                let id = record["id"].as_str().expect("an id").to_string();
                assert!(
                    failed_in.insert(id, line.at).is_none(),
                    "a record failed twice"
                );
            }
        }
        for (context, id) in &fired {
            let written = match (stored_in.get(id), failed_in.get(id)) {
                (Some(_), Some(_)) => panic!("{id} both stored and failed"),
                (Some(at), None) | (None, Some(at)) => at,
                (None, None) => panic!("{id} neither stored nor in a failure line"),
            };
            assert!(
                written <= &ended_at[context],
                "{context:?} ended before the line about its record"
            );
        }
        assert_eq!(
            stored_in.len() + failed_in.len(),
            fired.len(),
            "records settled that were never fired"
        );

        // Storage saw no failed record, and holds the ten newest of the stored ones.
        let stored: Vec<String> = stored_in.keys().cloned().collect();
        for call in fake.answered() {
            for id in call.written_ids() {
                assert!(
                    stored_in.contains_key(&id),
                    "{id} written, not reported stored"
                );
            }
        }
        assert_eq!(redis.ids(), ten_newest(&stored));

        let failed = failed_in.len();
        assert!(
            failed > 0,
            "the queue never overflowed: the test proves nothing"
        );
        assert!(
            lines * 10 <= failed,
            "{failed} failed records took {lines} lines: not grouped"
        );
        println!(
            "{} fired: {} stored, {failed} failed in {lines} lines",
            fired.len(),
            stored.len()
        );
    })
    .await;
}

/// A refused token in production mode: each request's own log gets its failure line before its
/// `end`, after one attempt, naming the variable to check; `/api/recent` names its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_named_in_each_request_s_failure_line_and_not_retried() {
    within(TEST_LIMIT, "three refused-token lines", async {
        let wrong = [
            ("KV_REST_API_TOKEN", "not-the-token"),
            ("KV_REST_API_READ_ONLY_TOKEN", "not-the-read-token"),
        ];
        let (_redis, fake, app, ipc) = behind_the_double_in_production(Duration::ZERO, &wrong).await;
        let app = Arc::new(app);
        let fired = fire_all(&app, &contexts(1..4), "refused").await;
        ipc.wait_for_ends(fired.len(), Duration::from_secs(10))
            .await;
        let logs = ipc.logs();
        for (context, (id, _)) in &fired {
            let lines = logs_of(&logs, context);
            assert_eq!(lines.len(), 1, "{context:?}: {lines:?}");
            let parsed = failure_lines(std::slice::from_ref(&lines[0].text));
            assert_eq!(records_of(&parsed)[0]["id"], id.as_str());
            assert_eq!(parsed[0]["attempts"], 1, "a refused token is not retried");
            assert_eq!(
                parsed[0]["error"],
                "storage refused the token (HTTP 401): check KV_REST_API_TOKEN in the environment"
            );
            assert!(!lines[0].text.contains("not-the"), "{}", lines[0].text);
        }
        let writes = fake.seen().iter().filter(|s| s.path == "/pipeline").count();
        let batches: usize = fired.len();
        assert!(
            (1..=batches).contains(&writes),
            "{writes} calls for at most {batches} batches"
        );
        let (status, body) = app.recent().await;
        assert_eq!(status, 502);
        assert_eq!(
            body["error"],
            "storage refused the token (HTTP 401): check KV_REST_API_READ_ONLY_TOKEN in the environment"
        );
    })
    .await;
}
