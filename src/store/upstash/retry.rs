//! When to try a write again: bounded attempts, exponential backoff with full jitter, and a
//! deadline for the whole write.

use crate::store::{StoreError, WriteFailure};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The bounds of one background write. The defaults keep a write well under any function's
/// `maxDuration`: at most 4 attempts, each limited by the client's 3 s request timeout, waits
/// of up to 100, 200 and 400 ms between them, and no new attempt once 8 s have passed, so a
/// write ends within 11 s ([`RetryPolicy::longest_write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            deadline: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// How long to wait after failed attempt number `attempt` (1-based), or `None` when the
    /// write should stop: out of attempts, or the wait would cross the deadline.
    ///
    /// Full jitter (a random wait between zero and the exponential bound) spreads out the
    /// retries of many instances that failed at the same moment.
    pub fn delay_after(&self, attempt: u32, elapsed: Duration) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let delay = self.bound(attempt).mul_f64(fastrand::f64());
        (elapsed + delay < self.deadline).then_some(delay)
    }

    /// Makes `attempt` until one succeeds (`Ok(attempts made)`), one fails for good (anything
    /// but [`StoreError::Unavailable`]: the same call would be refused again), or the policy
    /// says stop.
    pub async fn run<F, A>(&self, mut attempt: F) -> Result<u32, WriteFailure>
    where
        F: FnMut() -> A,
        A: Future<Output = Result<(), StoreError>>,
    {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match attempt().await {
                Ok(()) => return Ok(attempts),
                Err(error) => error,
            };
            let retry_in = match error {
                StoreError::Unavailable(_) => self.delay_after(attempts, started.elapsed()),
                _ => None,
            };
            match retry_in {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(WriteFailure { attempts, error }),
            }
        }
    }

    /// The longest [`run`](Self::run) can take when one attempt takes at most `attempt_timeout`:
    /// every attempt timing out, with the longest waits between them, or the last attempt
    /// starting just before the deadline, whichever ends first.
    pub fn longest_write(&self, attempt_timeout: Duration) -> Duration {
        let waits: Duration = (1..self.max_attempts)
            .map(|attempt| self.bound(attempt))
            .sum();
        let every_attempt = attempt_timeout * self.max_attempts + waits;
        every_attempt.min(self.deadline + attempt_timeout)
    }

    /// The longest wait after failed attempt number `attempt`.
    fn bound(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_exponentially_and_stay_under_their_bound() {
        let policy = RetryPolicy::default();
        for (attempt, bound_ms) in [(1, 100), (2, 200), (3, 400)] {
            for _ in 0..100 {
                let delay = policy.delay_after(attempt, Duration::ZERO).unwrap();
                assert!(
                    delay <= Duration::from_millis(bound_ms),
                    "{attempt}: {delay:?}"
                );
            }
        }
    }

    #[test]
    fn attempt_zero_is_treated_as_the_first() {
        let delay = RetryPolicy::default()
            .delay_after(0, Duration::ZERO)
            .unwrap();
        assert!(delay <= Duration::from_millis(100));
    }

    #[test]
    fn no_attempt_follows_the_last_one() {
        assert_eq!(RetryPolicy::default().delay_after(4, Duration::ZERO), None);
    }

    #[test]
    fn no_attempt_starts_past_the_deadline() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_after(1, Duration::from_secs(8)), None);
    }

    #[test]
    fn the_wait_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 40,
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            assert!(policy.delay_after(30, Duration::ZERO).unwrap() <= policy.max_delay);
        }
    }
}
