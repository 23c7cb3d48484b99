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

    /// Makes `attempt` until one succeeds (`Ok((its value, attempts made))`), one fails for
    /// good (anything but [`StoreError::Unavailable`]: the same call would be refused again), or
    /// the policy says stop. Only for attempts that are safe to repeat.
    pub async fn run<F, A, T>(&self, mut attempt: F) -> Result<(T, u32), WriteFailure>
    where
        F: FnMut() -> A,
        A: Future<Output = Result<T, StoreError>>,
    {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let error = match attempt().await {
                Ok(value) => return Ok((value, attempts)),
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
mod tests;
