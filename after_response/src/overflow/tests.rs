//! Grouping on tokio's paused clock: which items share a line, and when each reporter returns.

use crate::testing::*;
use crate::{Config, Failure};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

/// A handle whose every item is refused for overload: its queue holds one item while the one
/// in flight never ends within the test.
fn overloaded(window: Duration, max_bytes: usize) -> crate::AfterResponse<Scripted> {
    handle(
        Scripted::taking(Duration::from_secs(3600)),
        Config {
            max_queued: 1,
            overflow_window: window,
            overflow_max_bytes: max_bytes,
            ..Config::default()
        },
    )
}

/// Refuses items `range` (after two that fill the writer), `gap` apart; returns when each
/// refused one settled, counted from the first of them, and the failure lines' items.
async fn refuse(
    handle: &crate::AfterResponse<Scripted>,
    range: std::ops::Range<u64>,
    gap: Duration,
) -> (Vec<Duration>, Vec<Vec<u64>>) {
    let lines = Lines::default();
    for filler in [1_000, 1_001] {
        let (handle, lines) = (handle.clone(), Lines::default());
        tokio::spawn(async move { settle(&handle, &lines, filler).await });
        // The first goes in flight alone; the second fills the queue.
        tokio::time::sleep(MS).await;
    }
    let settled = settle_all(handle, &lines, range, gap).await;
    let times = settled
        .into_iter()
        .map(|(outcome, at)| {
            assert!(
                matches!(outcome, Err(Failure::Overloaded(_))),
                "{outcome:?}"
            );
            at
        })
        .collect();
    (times, failed(&lines))
}

#[tokio::test(start_paused = true)]
async fn log_volume_bounded_items_refused_within_a_window_share_one_line_written_when_it_ends() {
    within("one line per window", async {
        let (settled, lines) = refuse(&overloaded(MS * 1000, 64 * 1024), 0..5, MS * 100).await;
        assert_eq!(lines, [vec![0, 1, 2, 3, 4]]);
        // Nobody leaves before the line holding their item is written, at the window's end.
        assert_eq!(settled, [MS * 1000; 5]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_refusal_after_the_window_opens_the_next_group() {
    within("the next group", async {
        let (_, lines) = refuse(&overloaded(MS * 300, 64 * 1024), 0..6, MS * 100).await;
        assert_eq!(lines, [vec![0, 1, 2], vec![3, 4, 5]]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_full_group_is_written_at_once_and_every_item_lands_in_exactly_one_line() {
    within("a full group", async {
        // Items 10..20 are two bytes of JSON each: four fit in 8 bytes.
        let (settled, lines) = refuse(&overloaded(MS * 1000, 8), 10..20, Duration::ZERO).await;
        assert_eq!(
            lines,
            [vec![10, 11, 12, 13], vec![14, 15, 16, 17], vec![18, 19]]
        );
        // The full groups were written as soon as the next item did not fit.
        assert_eq!(settled[..8], [Duration::ZERO; 8]);
        assert_eq!(settled[8..], [MS * 1000; 2]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_line_lists_each_distinct_reason_once() {
    within("distinct reasons", async {
        let handle = handle(
            Scripted::taking(MS * 300),
            Config {
                max_queued: 1,
                max_wait: MS * 100,
                ..Config::default()
            },
        );
        let lines = Lines::default();
        // 1 in flight until 300 ms; 2 waits and expires; 3 and 4 find the queue full.
        settle_all(&handle, &lines, 1..=4, MS).await;
        let line = lines
            .lock()
            .unwrap()
            .iter()
            .find(|l| l.starts_with("error"))
            .unwrap()
            .clone();
        let value: serde_json::Value = serde_json::from_str(&line[6..]).unwrap();
        assert_eq!(
            value["error"],
            "the queue is full (1 items waiting); waited over 100ms in the queue"
        );
        assert_eq!(
            (value["count"].as_u64(), value["attempts"].as_u64()),
            (Some(3), Some(0))
        );
        assert_eq!(value["sink"], "scripted");
    })
    .await
}

#[test]
fn a_reporter_takes_only_its_own_group_never_the_next() {
    let overflow = super::Overflow::new(&Config {
        overflow_max_bytes: 1,
        ..Config::default()
    });
    let (first, _, _, none) = overflow.join(serde_json::json!(1), "full");
    assert!(none.is_none());
    // One byte at most: the next item closes the first group and opens another.
    let (second, _, _, full) = overflow.join(serde_json::json!(2), "full");
    assert_eq!(full.map(|group| group.id), Some(first));
    assert_ne!(first, second);
    assert!(
        overflow.take(first).is_none(),
        "the next group is not the first's"
    );
    assert_eq!(
        overflow.take(second).map(|group| group.items),
        Some(vec![serde_json::json!(2)])
    );
    assert!(overflow.take(second).is_none(), "taken once");
}
