//! The writer on tokio's paused clock: sleeps take no real time and the order of events is
//! exact, so the timings asserted here hold on any machine, however loaded.

use crate::testing::*;
use crate::{Config, Failure, Retry, Written};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const MS: Duration = Duration::from_millis(1);

fn limits(max_queued: usize, max_batch: usize, max_wait: Duration) -> Config {
    Config {
        max_queued,
        max_batch,
        max_wait,
        ..Config::default()
    }
}

fn attempts(outcome: &Result<Written, Failure<TestError>>) -> Result<u32, String> {
    outcome
        .as_ref()
        .map(|w| w.attempts)
        .map_err(|f| f.to_string())
}

#[tokio::test(start_paused = true)]
async fn batched_an_item_with_nothing_waiting_goes_at_once() {
    within("an item with nothing waiting goes at once", async {
        let handle = handle(Scripted::taking(MS * 5), Config::default());
        let lines = Lines::default();
        let started = tokio::time::Instant::now();
        let outcome = settle(&handle, &lines, 1).await.unwrap();
        assert_eq!((outcome.attempts, started.elapsed()), (1, MS * 5));
        assert_eq!(handle.sink().batches(), [vec![1]]);
        assert_eq!(written(&lines), ["n1"]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn batched_items_waiting_together_go_out_in_one_call_oldest_first() {
    within("items waiting together go out in one call", async {
        let handle = handle(Scripted::taking(MS * 50), Config::default());
        let settled = settle_all(&handle, &Lines::default(), 1..=6, MS * 2).await;
        assert!(settled.iter().all(|(o, _)| attempts(o) == Ok(1)));
        assert_eq!(handle.sink().batches(), [vec![1], vec![2, 3, 4, 5, 6]]);
    })
    .await
}

/// Group commit without a timer: a request task that is ready to run when the writer wakes for
/// an item hands its own in first, so both share the call (under load: fewer billed calls).
#[tokio::test(start_paused = true)]
async fn batched_a_call_carries_what_tasks_ready_to_run_submit_first() {
    within("ready tasks share the call", async {
        let handle = handle(Scripted::taking(MS * 5), Config::default());
        let (lines, ready) = (Lines::default(), Arc::new(Notify::new()));
        let second = {
            let (handle, lines, ready) = (handle.clone(), lines.clone(), ready.clone());
            tokio::spawn(async move {
                ready.notified().await;
                settle(&handle, &lines, 2).await
            })
        };
        // The second task runs, and waits to be told.
        tokio::task::yield_now().await;
        let mut first = std::pin::pin!(settle(&handle, &lines, 1));
        // One poll: item 1 is queued and the writer is woken, ahead of the second task...
        tokio::select! {
            biased;
            _ = &mut first => panic!("written before the writer ran"),
            _ = std::future::ready(()) => {}
        }
        // ...which is ready to run now, behind the writer.
        ready.notify_one();
        assert!(first.await.is_ok() && second.await.unwrap().is_ok());
        assert_eq!(handle.sink().batches(), [vec![1, 2]]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn batched_calls_never_exceed_the_cap_and_go_oldest_first() {
    within("capped batches", async {
        let handle = handle(
            Scripted::taking(MS * 50),
            limits(2000, 3, Duration::from_secs(10)),
        );
        settle_all(&handle, &Lines::default(), 1..=10, MS * 2).await;
        assert_eq!(
            handle.sink().batches(),
            [vec![1], vec![2, 3, 4], vec![5, 6, 7], vec![8, 9, 10]]
        );
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn batched_each_item_settles_with_its_own_batch_and_not_after_the_next_one() {
    within("each item settles with its own batch", async {
        // Call 2 (items 2 and 3) fails for good; calls take 150 ms.
        let sink = Scripted::new(|call| {
            let result = if call == 2 {
                Err(TestError { retry: false })
            } else {
                Ok(())
            };
            (MS * 150, result)
        });
        let handle = handle(sink, limits(2000, 2, Duration::from_secs(10)));
        let lines = Lines::default();
        let settled = settle_all(&handle, &lines, 1..=4, MS * 20).await;
        let outcomes: Vec<_> = settled.iter().map(|(o, t)| (attempts(o), *t)).collect();
        // 1 alone (0–150), 2 and 3 together (150–300), 4 after them (300–450): 3 leaves the
        // moment its own batch settles, not after 4's.
        assert_eq!(
            outcomes,
            [
                (Ok(1), MS * 150),
                (Err("refused".into()), MS * 300),
                (Err("refused".into()), MS * 300),
                (Ok(1), MS * 450),
            ]
        );
        assert_eq!(failed(&lines), [vec![2], vec![3]]);
        assert_eq!(written(&lines), ["n1", "n4"]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn bounded_a_full_queue_refuses_the_next_item_at_once() {
    within("a full queue refuses the next item at once", async {
        let handle = handle(
            Scripted::taking(MS * 200),
            limits(2, 500, Duration::from_secs(10)),
        );
        let lines = Lines::default();
        // 1 in flight, 2 and 3 waiting: full. 4 is refused at once, then grouped in a line.
        let settled = settle_all(&handle, &lines, 1..=4, MS * 5).await;
        let refused = &settled[3];
        assert!(matches!(&refused.0, Err(Failure::Overloaded(r)) if r.contains("full")));
        assert_eq!(refused.1, MS * 15 + Config::default().overflow_window);
        assert_eq!(handle.sink().batches(), [vec![1], vec![2, 3]]);
        assert_eq!(failed(&lines), [vec![4]]);
    })
    .await
}

/// Item 1 is written from 0 to 200 ms; item 2 queues at 10 ms, so its turn comes after it
/// waited 190 ms.
async fn second_item_waiting_190_ms(max_wait: Duration) -> (Result<u32, String>, Vec<Vec<u64>>) {
    let handle = handle(Scripted::taking(MS * 200), limits(2000, 500, max_wait));
    let settled = settle_all(&handle, &Lines::default(), 1..=2, MS * 10).await;
    (attempts(&settled[1].0), handle.sink().batches())
}

#[tokio::test(start_paused = true)]
async fn bounded_an_item_that_waited_too_long_is_refused_and_one_on_the_limit_is_written() {
    within("an item that waited too long is refused", async {
        let (late, batches) = second_item_waiting_190_ms(MS * 189).await;
        assert!(late.unwrap_err().contains("waited over"));
        assert_eq!(batches, [vec![1]]);
        let (on_time, batches) = second_item_waiting_190_ms(MS * 190).await;
        assert_eq!((on_time, batches), (Ok(1), vec![vec![1], vec![2]]));
    })
    .await
}

/// An item every 5 ms for a minute against a sink whose every attempt times out (or, in the
/// second round, every fourth answers just in time): each settles (written, refused as the
/// queue is full, or refused after waiting too long) within the settle bound.
#[tokio::test(start_paused = true)]
async fn bounded_every_item_settles_within_the_bound_under_sustained_load() {
    within("every item settles within the bound", async {
        let config = Config::default();
        let bound = config.settle_bound();
        assert_eq!(bound, Duration::from_secs(21));
        let timeout = config.retry.attempt_timeout;
        for answers_every in [0, 4] {
            let sink =
                Scripted::new(
                    move |call| match answers_every > 0 && call % answers_every == 0 {
                        true => (timeout - MS, Ok(())),
                        false => (timeout * 2, Ok(())),
                    },
                );
            let handle = handle(sink, config);
            let settled = settle_all(&handle, &Lines::default(), 0..12_000, MS * 5).await;
            // Each one's time from its own submit, every 5 ms.
            let took = settled
                .iter()
                .enumerate()
                .map(|(n, (_, at))| *at - MS * 5 * n as u32);
            let slowest = took.max().unwrap();
            let written = settled.iter().filter(|(o, _)| o.is_ok()).count();
            let waited = settled.iter().filter(
                |(o, _)| matches!(o, Err(Failure::Overloaded(r)) if r.contains("waited over")),
            );
            // Refusals wait for their group's line, at most one window more.
            assert!(slowest <= bound + config.overflow_window, "{slowest:?}");
            // The load reached every path that could break the bound.
            assert!(slowest > config.max_wait, "{answers_every}: {slowest:?}");
            assert!(waited.count() > 0, "{answers_every}");
            assert_eq!(written > 0, answers_every > 0, "{answers_every}");
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn exactly_one_outcome_a_panicking_sink_fails_its_batch_into_lines_and_the_writer_goes_on() {
    within("a panicking sink", async {
        let sink = Scripted::new(|call| (if call == 1 { PANIC } else { MS }, Ok(())));
        let handle = handle(sink, Config::default());
        let lines = Lines::default();
        let settled = settle_all(&handle, &lines, 1..=2, MS).await;
        assert!(matches!(settled[0].0, Err(Failure::Stopped)));
        assert_eq!(attempts(&settled[1].0), Ok(1));
        assert_eq!(failed(&lines), [vec![1]]);
        assert_eq!(written(&lines), ["n2"]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn retried_within_a_bound_a_retryable_failure_is_tried_again_and_its_line_counts_attempts() {
    within("retries", async {
        let sink = Scripted::new(|call| (MS, Err(TestError { retry: call < 9 })));
        let handle = handle(sink, Config::default());
        let lines = Lines::default();
        let outcome = settle(&handle, &lines, 7).await;
        assert!(matches!(outcome, Err(Failure::Sink { attempts: 4, .. })));
        let line = lines.lock().unwrap()[0].clone();
        let value: serde_json::Value = serde_json::from_str(&line[6..]).unwrap();
        assert_eq!(
            (value["attempts"].as_u64(), value["error"].as_str()),
            (Some(4), Some("down"))
        );
        // A sink that hangs is cut at the attempt timeout, which is worth a retry too.
        let hangs = handle_hanging();
        let outcome = settle(&hangs, &Lines::default(), 1).await;
        assert!(
            matches!(outcome, Err(Failure::TimedOut { attempts: 3 })),
            "{outcome:?}"
        );
        assert_eq!(hangs.sink().batches().len(), 3);
    })
    .await
}

fn handle_hanging() -> crate::AfterResponse<Scripted> {
    let retry = Retry::default();
    handle(
        Scripted::taking(retry.attempt_timeout * 10),
        Config::default(),
    )
}

#[test]
fn config_that_cannot_work_is_refused() {
    let sink = || Scripted::taking(MS);
    for (config, names) in [
        (limits(0, 1, MS), "max_queued"),
        (limits(1, 0, MS), "max_batch"),
        (limits(1, 1, Duration::ZERO), "max_wait"),
        (
            Config {
                retry: Retry {
                    max_attempts: 0,
                    ..Retry::default()
                },
                ..Config::default()
            },
            "attempt",
        ),
        (
            Config {
                retry: Retry {
                    attempt_timeout: Duration::ZERO,
                    ..Retry::default()
                },
                ..Config::default()
            },
            "attempt_timeout",
        ),
    ] {
        let refusal = crate::AfterResponse::with_config(sink(), config)
            .err()
            .unwrap();
        assert!(refusal.contains(names), "{refusal}");
    }
    assert!(crate::AfterResponse::with_config(sink(), limits(1, 1, MS)).is_ok());
}
