//! The write queue's default limits, end to end: the real binary, as deployed (no limit set by
//! the test), in front of storage that never answers within the client's timeout. A record
//! that finds the queue full fails at once; a record that waited longer than `max_wait` for its
//! turn fails instead of being written; every record ends in exactly one failure line, and none
//! is stored or reported stored.

use crate::{behind_the_double, busy_cores};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;
use testkit::{TEST_LIMIT, eventually, within};
use wait_until::app::writer_config as config;

/// Fired once the queue is full: each must be refused.
const OVER_THE_LIMIT: usize = 25;

/// How each failure line's error classifies its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ending {
    QueueFull,
    WaitedTooLong,
    TimedOut,
}

fn ending_of(line: &Value) -> Ending {
    let error = line["error"].as_str().unwrap_or_default();
    let limits = config(true);
    let (ending, attempts) =
        if error == format!("the queue is full ({} items waiting)", limits.max_queued) {
            (Ending::QueueFull, 0)
        } else if error == format!("waited over {:?} in the queue", limits.max_wait) {
            (Ending::WaitedTooLong, 0)
        } else if error == "storage timed out" {
            (Ending::TimedOut, 3)
        } else {
            panic!("an unexpected failure: {line}");
        };
    // Refused records never reached storage; written ones were tried until the deadline: three
    // attempts of 3 s each, the fourth would start past 8 s.
    assert_eq!(line["attempts"], attempts, "{line}");
    ending
}

/// Every record's id and how it ended, from all failure lines so far.
fn endings(lines: &[Value]) -> Vec<(String, Ending)> {
    lines
        .iter()
        .flat_map(|line| {
            let ending = ending_of(line);
            line["items"]
                .as_array()
                .expect("a failure line holds its records")
                .iter()
                .map(move |record| (record["id"].as_str().unwrap().to_string(), ending))
        })
        .collect()
}

#[tokio::test]
async fn with_the_default_limits_a_full_queue_and_a_long_wait_fail_and_lose_nothing() {
    let limits = config(true);
    let (redis, fake, app) = behind_the_double(&[]).await;
    // Storage holds every call: each attempt runs into the client's 3 s timeout.
    let _held = fake.hold();

    let mut fired = Vec::new();
    let firing = busy_cores().await;
    within(TEST_LIMIT, "filling the queue", async {
        // One write in flight; everything fired after it queues behind it.
        fired.push(app.fire().await);
        eventually(Duration::from_secs(5), "the first write", || async {
            !fake.seen().is_empty()
        })
        .await;
        for _ in 0..limits.max_queued + OVER_THE_LIMIT {
            fired.push(app.fire().await);
        }
    })
    .await;
    drop(firing);
    let total = fired.len();

    within(TEST_LIMIT, "every record to settle", async {
        // The refused ones are reported at once: while the first write is still in flight.
        let refused = app.wait_for_failure_lines(1, Duration::from_secs(5)).await;
        assert_eq!(ending_of(&refused[0]), Ending::QueueFull);
        let over: Vec<&String> = fired[fired.len() - OVER_THE_LIMIT..].iter().collect();
        eventually(Duration::from_secs(5), "the refused records", || {
            let refused: Vec<String> = endings(&app.failure_lines())
                .into_iter()
                .filter(|(_, ending)| *ending == Ending::QueueFull)
                .map(|(id, _)| id)
                .collect();
            let all = refused.iter().collect::<Vec<_>>() == over;
            async move { all }
        })
        .await;
        assert!(
            endings(&app.failure_lines())
                .iter()
                .all(|(_, ending)| *ending == Ending::QueueFull),
            "refused before the first write ended"
        );

        // The rest settle within the bound: written and timed out, or failed unwritten.
        let bound = limits.settle_bound() + Duration::from_secs(5);
        eventually(bound, "a failure line for every record", || {
            let settled = endings(&app.failure_lines()).len();
            async move { settled >= total }
        })
        .await;
    })
    .await;

    // Each record exactly once, none stored, none reported stored.
    let endings = endings(&app.failure_lines());
    let mut ids: Vec<&String> = endings.iter().map(|(id, _)| id).collect();
    let mut expected: Vec<&String> = fired.iter().collect();
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected, "every fired record in one failure line");
    let mut counts: HashMap<Ending, usize> = HashMap::new();
    for (_, ending) in &endings {
        *counts.entry(*ending).or_default() += 1;
    }
    assert_eq!(counts.get(&Ending::QueueFull), Some(&OVER_THE_LIMIT));
    // The first write, and at least the batch that went out after it, were tried and timed
    // out; what waited behind that batch for over `max_wait` failed without being written.
    assert!(counts[&Ending::TimedOut] > 1, "{counts:?}");
    assert!(counts[&Ending::WaitedTooLong] > 0, "{counts:?}");
    assert!(app.stored_ids().is_empty());
    assert_eq!(redis.card(), 0);
}
