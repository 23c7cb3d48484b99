//! The retry policy, measured on tokio's paused clock: the waits between attempts are exact
//! (to the timer's millisecond), and the jitter comes from a seeded generator, so every run sees
//! the same waits and the statistical checks below can never flake.

use super::*;
use crate::paused_clock::within;
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

fn unavailable() -> StoreError {
    StoreError::Unavailable("storage answered HTTP 503".into())
}

/// One write through `policy` whose attempts each take `takes` and then end as `outcome` says
/// for that attempt (1-based). Returns the write's result and when each attempt started,
/// counted from the start of the write.
async fn write_with(
    policy: RetryPolicy,
    takes: Duration,
    outcome: impl Fn(u32) -> Result<(), StoreError>,
) -> (Result<u32, WriteFailure>, Vec<Duration>) {
    let started = Instant::now();
    let mut starts = Vec::new();
    let result = policy
        .run(|| {
            starts.push(started.elapsed());
            let attempt = starts.len() as u32;
            // A write that never stops would spin here without the clock moving, so no
            // deadline could end it: stop it by count instead.
            assert!(
                attempt <= 100,
                "a write that never stops: over 100 attempts"
            );
            let result = outcome(attempt);
            async move {
                tokio::time::sleep(takes).await;
                result
            }
        })
        .await
        .map(|((), attempts)| attempts);
    (result, starts)
}

/// The wait after each failed attempt, for many writes whose every attempt fails at once.
async fn waits_of_failing_writes(writes: usize) -> [Vec<Duration>; 3] {
    let mut waits: [Vec<Duration>; 3] = Default::default();
    for _ in 0..writes {
        let (result, starts) = write_with(RetryPolicy::default(), Duration::ZERO, |_| {
            Err(unavailable())
        })
        .await;
        assert_eq!(
            result.map_err(|f| f.attempts),
            Err(4),
            "every attempt is made"
        );
        for (n, pair) in starts.windows(2).enumerate() {
            waits[n].push(pair[1] - pair[0]);
        }
    }
    waits
}

#[tokio::test(start_paused = true)]
async fn the_waits_between_attempts_grow_and_stay_within_their_jittered_bounds() {
    within(
        "the waits between attempts grow and stay within their jittered bounds",
        async {
            fastrand::seed(17);
            let waits = waits_of_failing_writes(400).await;
            for (n, bound) in [(0, 100), (1, 200), (2, 400)] {
                let bound = MS * bound;
                let waits = &waits[n];
                let slowest = *waits.iter().max().unwrap();
                let quickest = *waits.iter().min().unwrap();
                let mean = waits.iter().sum::<Duration>() / waits.len() as u32;
                let context = format!("wait {}: {quickest:?}..{slowest:?}, mean {mean:?}", n + 1);
                // Never past the bound, and full jitter: from almost nothing to almost the bound,
                // half the bound on average. 400 draws put the mean within 3% of the bound of it.
                assert!(slowest <= bound, "{context}");
                assert!(slowest >= bound.mul_f64(0.95), "{context}");
                assert!(quickest <= bound.mul_f64(0.05), "{context}");
                let half = bound / 2;
                assert!(
                    mean >= half.mul_f64(0.9) && mean <= half.mul_f64(1.1),
                    "{context}"
                );
            }
        },
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn a_write_stops_at_its_first_success() {
    within("a write stops at its first success", async {
        fastrand::seed(1);
        let (result, starts) = write_with(RetryPolicy::default(), 10 * MS, |attempt| {
            if attempt < 3 {
                Err(unavailable())
            } else {
                Ok(())
            }
        })
        .await;
        assert_eq!(result, Ok(3));
        assert_eq!(starts.len(), 3);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn only_unavailable_storage_is_tried_again() {
    within("only unavailable storage is tried again", async {
        let refusals = [
            StoreError::Rejected("storage refused the token (HTTP 401)".into()),
            StoreError::NotConfigured("KV_REST_API_URL is not set".into()),
            StoreError::Overloaded("the write queue is full".into()),
        ];
        for refusal in refusals {
            let (result, starts) =
                write_with(RetryPolicy::default(), 10 * MS, |_| Err(refusal.clone())).await;
            assert_eq!(
                result,
                Err(WriteFailure {
                    attempts: 1,
                    error: refusal
                })
            );
            assert_eq!(starts, [Duration::ZERO]);
        }
    })
    .await
}

/// Attempts that each run into a 3 s timeout: the first starts at 0, the second after 3 s and a
/// wait, the third after 6 s and two waits; a fourth would start after 9 s, past the 8 s
/// deadline, so the write ends after three.
#[tokio::test(start_paused = true)]
async fn no_attempt_starts_past_the_deadline_and_the_write_ends_within_its_bound() {
    within(
        "no attempt starts past the deadline and the write ends within its bound",
        async {
            fastrand::seed(5);
            let policy = RetryPolicy::default();
            let timeout = Duration::from_secs(3);
            for _ in 0..50 {
                let started = Instant::now();
                let (result, starts) = write_with(policy, timeout, |_| Err(unavailable())).await;
                let took = started.elapsed();
                assert_eq!(result.map_err(|f| f.attempts), Err(3), "{starts:?}");
                assert!(
                    starts.iter().all(|&start| start < policy.deadline),
                    "{starts:?}"
                );
                assert!(took <= policy.longest_write(timeout), "{took:?}");
            }
        },
    )
    .await
}

#[test]
fn the_longest_write_is_every_attempt_timing_out_or_one_attempt_past_the_deadline() {
    let policy = RetryPolicy::default();
    // Four 1 s attempts and the longest waits (100 + 200 + 400 ms) end before the deadline.
    assert_eq!(policy.longest_write(Duration::from_secs(1)), 4700 * MS);
    // With 3 s attempts the last one to start begins before 8 s and ends by 11 s.
    assert_eq!(
        policy.longest_write(Duration::from_secs(3)),
        Duration::from_secs(11)
    );
}

/// Without waits (a policy of zero delays), the deadline itself is the limit: no attempt starts
/// at it, only before it.
#[test]
fn no_attempt_starts_at_the_deadline_even_without_a_wait() {
    let policy = RetryPolicy {
        base_delay: Duration::ZERO,
        ..RetryPolicy::default()
    };
    assert_eq!(
        policy.delay_after(1, policy.deadline - MS),
        Some(Duration::ZERO)
    );
    assert_eq!(policy.delay_after(1, policy.deadline), None);
}

#[test]
fn a_wait_that_would_cross_the_deadline_is_not_taken() {
    fastrand::seed(3);
    let policy = RetryPolicy::default();
    assert_eq!(policy.delay_after(1, policy.deadline), None);
    // Just before the deadline, only a wait that ends before it is allowed.
    for _ in 0..100 {
        let elapsed = policy.deadline - 50 * MS;
        if let Some(delay) = policy.delay_after(1, elapsed) {
            assert!(elapsed + delay < policy.deadline, "{delay:?}");
        }
    }
}

#[test]
fn attempt_zero_is_treated_as_the_first() {
    fastrand::seed(9);
    for _ in 0..100 {
        let delay = RetryPolicy::default()
            .delay_after(0, Duration::ZERO)
            .unwrap();
        assert!(delay <= 100 * MS, "{delay:?}");
    }
}

#[test]
fn no_attempt_follows_the_last_one() {
    let policy = RetryPolicy::default();
    assert!(policy.delay_after(3, Duration::ZERO).is_some());
    assert_eq!(policy.delay_after(4, Duration::ZERO), None);
    assert_eq!(policy.delay_after(5, Duration::ZERO), None);
}

#[test]
fn the_wait_is_capped() {
    fastrand::seed(11);
    let policy = RetryPolicy {
        max_attempts: 40,
        deadline: Duration::from_secs(3600),
        ..RetryPolicy::default()
    };
    // Attempt 38: an unbounded `1 << attempt` would overflow; the exponent stops growing first.
    let waits: Vec<Duration> = (0..200)
        .map(|_| policy.delay_after(38, Duration::ZERO).unwrap())
        .collect();
    assert!(
        waits.iter().all(|&wait| wait <= policy.max_delay),
        "{waits:?}"
    );
    // Capped, not cut to nothing: the waits still spread up to the cap.
    assert!(
        waits
            .iter()
            .any(|&wait| wait >= policy.max_delay.mul_f64(0.9))
    );
}
