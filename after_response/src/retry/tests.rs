//! The retries, measured on tokio's paused clock: the waits between attempts are exact, and the
//! jitter comes from a seeded generator, so the statistical checks below never flake.

use super::*;
use crate::testing::*;
use std::sync::{Arc, Mutex};

const MS: Duration = Duration::from_millis(1);

/// One write through `retry` whose attempts each take `takes` and end as `outcome(attempt)`
/// says. Returns the attempts made (or the failure) and when each attempt started.
async fn write_with(
    retry: Retry,
    takes: Duration,
    outcome: impl Fn(usize) -> Result<(), TestError> + Send + Sync + 'static,
) -> (Outcome<TestError>, Vec<Duration>) {
    let started = Instant::now();
    let starts = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let starts = starts.clone();
        Scripted::new(move |call| {
            starts.lock().unwrap().push(started.elapsed());
            // A write that never stops would spin without the clock moving: stop it by count.
            assert!(call <= 100, "a write that never stops: over 100 attempts");
            (takes, outcome(call))
        })
    };
    let result = retry.write(&sink, &[1]).await;
    let starts = starts.lock().unwrap().clone();
    (result, starts)
}

const DOWN: TestError = TestError { retry: true };

#[tokio::test(start_paused = true)]
async fn retried_within_a_bound_the_waits_grow_and_stay_within_their_jittered_bounds() {
    within("the waits grow within their jittered bounds", async {
        fastrand::seed(17);
        let mut waits: [Vec<Duration>; 3] = Default::default();
        for _ in 0..400 {
            let (result, starts) =
                write_with(Retry::default(), Duration::ZERO, |_| Err(DOWN)).await;
            assert_eq!(
                result.map_err(|f| f.attempts()),
                Err(4),
                "every attempt is made"
            );
            for (n, pair) in starts.windows(2).enumerate() {
                waits[n].push(pair[1] - pair[0]);
            }
        }
        for (n, bound) in [(0, 100), (1, 200), (2, 400)] {
            let (bound, waits) = (MS * bound, &waits[n]);
            let slowest = *waits.iter().max().unwrap();
            let quickest = *waits.iter().min().unwrap();
            let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
            let context = format!("wait {}: {quickest:?}..{slowest:?}, mean {mean:?}", n + 1);
            // Full jitter: from almost nothing to almost the bound, half of it on average.
            assert!(
                slowest <= bound && slowest >= bound.mul_f64(0.95),
                "{context}"
            );
            assert!(quickest <= bound.mul_f64(0.05), "{context}");
            let half = bound / 2;
            assert!(
                mean >= half.mul_f64(0.9) && mean <= half.mul_f64(1.1),
                "{context}"
            );
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_write_stops_at_its_first_success() {
    within("a write stops at its first success", async {
        let (result, starts) = write_with(Retry::default(), MS * 10, |n| {
            if n < 3 { Err(DOWN) } else { Ok(()) }
        })
        .await;
        assert_eq!((result, starts.len()), (Ok(3), 3));
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn only_what_the_sink_calls_retryable_is_tried_again() {
    within("only retryable failures are tried again", async {
        let refused = TestError { retry: false };
        let (result, starts) =
            write_with(Retry::default(), MS * 10, move |_| Err(refused.clone())).await;
        let failure = Failure::Sink {
            error: TestError { retry: false },
            attempts: 1,
        };
        assert_eq!((result, starts), (Err(failure), vec![Duration::ZERO]));
    })
    .await
}

/// Attempts that each run into the 3 s timeout: the first starts at 0, the second after 3 s and
/// a wait, the third after 6 s and two; a fourth would start after 9 s, past the 8 s deadline.
#[tokio::test(start_paused = true)]
async fn retried_within_a_bound_no_attempt_starts_past_the_deadline_and_a_write_ends_within_its_bound()
 {
    within("no attempt past the deadline", async {
        fastrand::seed(5);
        let retry = Retry::default();
        for _ in 0..50 {
            let started = Instant::now();
            let (result, starts) = write_with(retry, retry.attempt_timeout * 2, |_| Ok(())).await;
            assert_eq!(result, Err(Failure::TimedOut { attempts: 3 }), "{starts:?}");
            assert!(
                starts.iter().all(|&start| start < retry.deadline),
                "{starts:?}"
            );
            assert!(started.elapsed() <= retry.longest_write());
        }
    })
    .await
}

#[test]
fn the_longest_write_is_every_attempt_timing_out_or_one_attempt_past_the_deadline() {
    let short = Retry {
        attempt_timeout: Duration::from_secs(1),
        ..Retry::default()
    };
    // Four 1 s attempts and the longest waits (100 + 200 + 400 ms) end before the deadline.
    assert_eq!(short.longest_write(), MS * 4700);
    // With 3 s attempts the last one to start begins before 8 s and ends by 11 s.
    assert_eq!(Retry::default().longest_write(), Duration::from_secs(11));
}

#[test]
fn no_attempt_starts_at_the_deadline_even_without_a_wait() {
    let retry = Retry {
        base_delay: Duration::ZERO,
        ..Retry::default()
    };
    assert_eq!(
        retry.delay_after(1, retry.deadline - MS),
        Some(Duration::ZERO)
    );
    assert_eq!(retry.delay_after(1, retry.deadline), None);
}

#[test]
fn a_wait_that_would_cross_the_deadline_is_not_taken() {
    fastrand::seed(3);
    let retry = Retry::default();
    for _ in 0..100 {
        let elapsed = retry.deadline - MS * 50;
        if let Some(delay) = retry.delay_after(1, elapsed) {
            assert!(elapsed + delay < retry.deadline, "{delay:?}");
        }
    }
}

#[test]
fn attempt_zero_is_treated_as_the_first_and_none_follows_the_last() {
    fastrand::seed(9);
    let retry = Retry::default();
    assert!((0..100).all(|_| retry.delay_after(0, Duration::ZERO).unwrap() <= MS * 100));
    assert!(retry.delay_after(3, Duration::ZERO).is_some());
    assert_eq!(retry.delay_after(4, Duration::ZERO), None);
    assert_eq!(retry.delay_after(5, Duration::ZERO), None);
}

#[test]
fn the_wait_is_capped_not_cut_to_nothing() {
    fastrand::seed(11);
    let retry = Retry {
        max_attempts: 40,
        deadline: Duration::from_secs(3600),
        ..Retry::default()
    };
    // Attempt 38: an unbounded `1 << attempt` would overflow; the exponent stops growing first.
    let waits: Vec<Duration> = (0..200)
        .map(|_| retry.delay_after(38, Duration::ZERO).unwrap())
        .collect();
    assert!(
        waits.iter().all(|&wait| wait <= retry.max_delay),
        "{waits:?}"
    );
    assert!(
        waits
            .iter()
            .any(|&wait| wait >= retry.max_delay.mul_f64(0.9))
    );
}
