//! When to call the sink again: bounded attempts, each cut at a timeout, exponential backoff
//! with full jitter between them, and a deadline after which no attempt starts.

use crate::{Failure, Outcome, Sink};
use std::time::Duration;
use tokio::time::Instant;

/// The bounds of one write. The defaults: at most 4 attempts of at most 3 s each, waits of up
/// to 100, 200 and 400 ms between them, and no attempt starting after 8 s, so a write ends
/// within 11 s ([`Retry::longest_write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Sink calls per write at most, the first included.
    pub max_attempts: u32,
    /// The longest wait after the first failed attempt; it doubles after each next one.
    pub base_delay: Duration,
    /// No wait is longer than this.
    pub max_delay: Duration,
    /// No attempt starts this long after the first one did.
    pub deadline: Duration,
    /// An attempt still running after this is dropped and counts as failed (worth a retry).
    pub attempt_timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            deadline: Duration::from_secs(8),
            attempt_timeout: Duration::from_secs(3),
        }
    }
}

impl Retry {
    /// The longest a write can take: every attempt timing out with the longest waits between
    /// them, or the last attempt starting just before the deadline, whichever ends first.
    pub fn longest_write(&self) -> Duration {
        let waits: Duration = (1..self.max_attempts).map(|n| self.bound(n)).sum();
        let every_attempt = self.attempt_timeout * self.max_attempts + waits;
        every_attempt.min(self.deadline + self.attempt_timeout)
    }

    /// Writes `batch` until an attempt succeeds, one fails for good ([`Sink::can_retry`] says a
    /// retry cannot help), or the bounds say stop. On success, the attempts made.
    pub(crate) async fn write<S: Sink>(&self, sink: &S, batch: &[S::Item]) -> Outcome<S::Error> {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let failure = match tokio::time::timeout(self.attempt_timeout, sink.write(batch)).await
            {
                Ok(Ok(())) => return Ok(attempts),
                Ok(Err(error)) if !S::can_retry(&error) => {
                    return Err(Failure::Sink { error, attempts });
                }
                Ok(Err(error)) => Failure::Sink { error, attempts },
                Err(_) => Failure::TimedOut { attempts },
            };
            match self.delay_after(attempts, started.elapsed()) {
                Some(delay) => tokio::time::sleep(delay).await,
                None => return Err(failure),
            }
        }
    }

    /// How long to wait after failed attempt number `attempt` (1-based), or `None` when the
    /// write should stop: out of attempts, or the wait would cross the deadline. Full jitter (a
    /// random wait from zero to the bound) spreads out instances that failed at one moment.
    fn delay_after(&self, attempt: u32, elapsed: Duration) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let delay = self.bound(attempt).mul_f64(fastrand::f64());
        (elapsed + delay < self.deadline).then_some(delay)
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
