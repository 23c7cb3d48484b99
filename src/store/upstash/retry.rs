//! When to try a write again: bounded attempts, exponential backoff with full jitter, and a
//! deadline for the whole write.

use std::time::Duration;

/// The bounds of one background write. The defaults keep a write well under any function's
/// `maxDuration`: at most 4 attempts, each limited by the client's 3 s request timeout, waits
/// of up to 100, 200 and 400 ms between them, and no new attempt once 8 s have passed.
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
        let bound = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let delay = bound.mul_f64(fastrand::f64());
        (elapsed + delay < self.deadline).then_some(delay)
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
