//! Work after the response for Rust functions on Vercel: `wait_until`, done properly.
//!
//! `vercel_runtime` 2.x keeps an invocation alive until the futures given to
//! `AppState::wait_until` settle. This crate makes the work in them hard to lose. You write a
//! [`Sink`] (write a batch of items somewhere), make one [`AfterResponse`] per instance, and
//! [`submit`](AfterResponse::submit) items from handlers. Its contract:
//!
//! - **Submitting returns at once.** The item is written after the response, inside the
//!   request's `wait_until`, so in production mode the request's `end` waits for its outcome.
//!   [`submit_awaited`](AfterResponse::submit_awaited) writes it before the response instead.
//! - **Batched.** One writer per instance makes one sink call at a time. An item submitted while
//!   it is idle goes at once, with those of requests already running (the writer yields to them
//!   first: no timer); items that arrive during a call go together in the next one, oldest
//!   first, at most [`Config::max_batch`] per call.
//! - **Bounded.** At most [`Config::max_queued`] items wait; one more is refused at once. An item
//!   that waited longer than [`Config::max_wait`] when its turn comes is refused too.
//! - **Retried within a bound.** An error the sink says can help ([`Sink::can_retry`]), or an
//!   attempt running past [`Retry::attempt_timeout`], is retried with full-jitter backoff; a
//!   write (every attempt and wait) ends within [`Retry::longest_write`], and an item settles
//!   within [`Config::settle_bound`].
//! - **Exactly one outcome per item**, before its request's `wait_until` settles: written (a
//!   short line, if [`Config::success_lines`]), or a failure line in that request's own log
//!   holding the whole item as JSON. On Vercel a request's lines are attributed to it; locally
//!   they go to stdout and stderr.
//! - **Log volume bounded under overload.** Items refused for overload are grouped: one failure
//!   line per [`Config::overflow_window`], at most [`Config::overflow_max_bytes`] of items each.
//! - **Replayable.** [`AfterResponse::read_log`] finds the failed items in exported logs (plain,
//!   prefixed, or `vercel logs --json`) and [`AfterResponse::replay`] hands them back to the sink;
//!   [`AfterResponse::replay_log`] does both and reports, the body of a replay binary.
//! - **Drained on SIGTERM.** The runtime waits for `wait_until` work before it exits, and every
//!   submitted item is part of some request's `wait_until` until it settles
//!   (`tests/drained_on_sigterm.rs` sends the signal to `vercel_runtime::run` itself).
//!
//! Writes may be repeated (a retry after a lost answer, a replay), and batches of several
//! instances arrive in any order: make the sink idempotent (a key per item).
//!
//! ```no_run
//! use after_response::{AfterResponse, Sink};
//! use std::sync::LazyLock;
//! use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};
//!
//! struct Stdout;
//!
//! impl Sink for Stdout {
//!     type Item = String;
//!     type Error = String;
//!     fn name(&self) -> &'static str {
//!         "stdout"
//!     }
//!     fn label(item: &String) -> String {
//!         item.len().to_string()
//!     }
//!     fn can_retry(_: &String) -> bool {
//!         true
//!     }
//!     async fn write(&self, batch: &[String]) -> Result<(), String> {
//!         println!("{}", batch.join("\n"));
//!         Ok(())
//!     }
//! }
//!
//! static AFTER: LazyLock<AfterResponse<Stdout>> = LazyLock::new(|| AfterResponse::new(Stdout));
//!
//! async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
//!     AFTER.submit(&req, &state, format!("{} {}", req.method(), req.uri().path()));
//!     Ok(Response::new(ResponseBody::from("done")))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     vercel_runtime::run(vercel_runtime::service_fn(handler)).await
//! }
//! ```

#![deny(missing_docs)]

mod log;
mod overflow;
pub mod replay;
mod retry;
#[cfg(test)]
mod testing;
mod writer;

pub use log::WROTE;
pub use replay::Found;
pub use retry::Retry;

use log::RequestLog;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;
use vercel_runtime::AppState;

/// Where items go: one call writes one batch.
pub trait Sink: Send + Sync + 'static {
    /// What is written. It travels in failure lines as JSON and is read back by replay.
    type Item: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Why a write failed. Its text goes into failure lines: keep secrets out of it.
    type Error: fmt::Display + Clone + Send + Sync + 'static;

    /// A short name for lines and reports, such as `upstash` or `webhooks`.
    fn name(&self) -> &'static str;

    /// What identifies an item in a success line and in replay (an id, no spaces): replay keeps
    /// one item per label.
    fn label(item: &Self::Item) -> String;

    /// Whether trying the same batch again can help (a timeout, a 5xx), or not (a refusal).
    fn can_retry(error: &Self::Error) -> bool;

    /// Writes `batch`, oldest first. May be called again with the same items.
    fn write(&self, batch: &[Self::Item]) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// How much is held, how long items wait, how writes retry and what is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Items waiting beyond the batch in flight; one more is refused at once. Default 2000.
    pub max_queued: usize,
    /// Items per sink call. Default 500.
    pub max_batch: usize,
    /// How long an item may wait for its turn before it is refused. Default 10 s.
    pub max_wait: Duration,
    /// Attempts, backoff and the bound of one write.
    pub retry: Retry,
    /// How long a group of items refused for overload stays open. Default 1 s.
    pub overflow_window: Duration,
    /// Items' JSON per overload line at most. Default 64 KiB, far below Vercel's 256 KB per
    /// log line, so a line is never cut (a cut line cannot be replayed).
    pub overflow_max_bytes: usize,
    /// Whether each written item leaves a short line. Default on.
    pub success_lines: bool,
    /// The `event` of failure lines, which replay looks for. Default `after_response.failed`;
    /// give each handle of a function its own.
    pub event: &'static str,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_queued: 2000,
            max_batch: 500,
            max_wait: Duration::from_secs(10),
            retry: Retry::default(),
            overflow_window: Duration::from_secs(1),
            overflow_max_bytes: 64 * 1024,
            success_lines: true,
            event: "after_response.failed",
        }
    }
}

impl Config {
    /// The longest an item takes to settle: its wait for a turn, then one write.
    pub fn settle_bound(&self) -> Duration {
        self.max_wait + self.retry.longest_write()
    }

    fn check(&self) -> Result<(), String> {
        let refusal = if self.max_queued == 0 {
            "max_queued must be at least 1: with 0 every item is refused"
        } else if self.max_batch == 0 {
            "max_batch must be at least 1: empty batches never drain the queue"
        } else if self.max_wait.is_zero() {
            "max_wait must be above zero: any item that waits would be refused"
        } else if self.retry.max_attempts == 0 || self.retry.attempt_timeout.is_zero() {
            "retry needs at least one attempt and an attempt_timeout above zero"
        } else {
            return Ok(());
        };
        Err(refusal.into())
    }
}

/// An item's write went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Sink calls its batch took, retries included.
    pub attempts: u32,
    /// From submitting the item until it was written: its wait for a turn, then the write.
    pub took: Duration,
}

/// Why an item was not written. Each ends in a failure line holding the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure<E> {
    /// The sink refused, or was still failing when the retries ran out.
    Sink {
        /// The last attempt's error.
        error: E,
        /// Sink calls made.
        attempts: u32,
    },
    /// The last attempt ran past [`Retry::attempt_timeout`].
    TimedOut {
        /// Sink calls made.
        attempts: u32,
    },
    /// This instance had more waiting than its limits allow; the sink was never called for it.
    Overloaded(String),
    /// The write stopped before it settled: the sink panicked, or the writer is gone.
    Stopped,
}

impl<E> Failure<E> {
    /// Sink calls made for the item's batch.
    pub fn attempts(&self) -> u32 {
        match self {
            Failure::Sink { attempts, .. } | Failure::TimedOut { attempts } => *attempts,
            Failure::Overloaded(_) | Failure::Stopped => 0,
        }
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Sink { error, .. } => error.fmt(f),
            Failure::TimedOut { .. } => f.write_str("the sink did not answer in time"),
            Failure::Overloaded(reason) => f.write_str(reason),
            Failure::Stopped => f.write_str("the write stopped before it settled"),
        }
    }
}

/// What a write did, as the writer hands it back.
type Outcome<E> = Result<u32, Failure<E>>;

/// The after-response writer of one sink. Make one per instance (a `static` with
/// `LazyLock`), never one per request; cloning it shares the writer.
pub struct AfterResponse<S: Sink> {
    shared: Arc<Shared<S>>,
}

struct Shared<S: Sink> {
    sink: S,
    config: Config,
    queue: writer::Queue<S>,
    overflow: overflow::Overflow,
}

impl<S: Sink> Clone for AfterResponse<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: Sink> AfterResponse<S> {
    /// A writer with [`Config::default`].
    pub fn new(sink: S) -> Self {
        Self::build(sink, Config::default())
    }

    /// A writer with `config`; a value that cannot work (a zero bound) is refused, saying why.
    pub fn with_config(sink: S, config: Config) -> Result<Self, String> {
        config.check()?;
        Ok(Self::build(sink, config))
    }

    fn build(sink: S, config: Config) -> Self {
        Self {
            shared: Arc::new(Shared {
                queue: writer::Queue::new(config.max_queued),
                overflow: overflow::Overflow::new(&config),
                sink,
                config,
            }),
        }
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.shared.sink
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Hands `item` to `state.wait_until` and returns at once; it is written after the
    /// response, and its outcome is a line in `req`'s log.
    pub fn submit<B>(&self, req: &http::Request<B>, state: &AppState, item: S::Item) {
        let (shared, log) = (
            Arc::clone(&self.shared),
            RequestLog::of(req.headers(), state),
        );
        state.wait_until(async move {
            // The outcome is in the line `settle` leaves; nobody waits for it here.
            let _ = settle(&shared, &log, item).await;
        });
    }

    /// Writes `item` before returning, leaving the same line [`submit`](Self::submit) would.
    ///
    /// The write still runs inside `state.wait_until` and is awaited through a channel: on
    /// SIGTERM the runtime drains `wait_until` work, not handlers, so a write run by the
    /// handler itself could be dropped half way, with neither the item written nor its line.
    pub async fn submit_awaited<B>(
        &self,
        req: &http::Request<B>,
        state: &AppState,
        item: S::Item,
    ) -> Result<Written, Failure<S::Error>> {
        let (shared, log) = (
            Arc::clone(&self.shared),
            RequestLog::of(req.headers(), state),
        );
        let (outcome, awaited) = oneshot::channel();
        state.wait_until(async move {
            // The handler may be gone (its connection closed at shutdown): the line says it all.
            let _ = outcome.send(settle(&shared, &log, item).await);
        });
        // Dropped unfinished only if the runtime stopped its work, which it does not do.
        awaited.await.unwrap_or(Err(Failure::Stopped))
    }

    /// The failed items in exported logs: see [`replay`].
    pub fn read_log(&self, log: &str) -> Found<S::Item> {
        replay::read::<S>(self.shared.config.event, log)
    }

    /// Writes `items` again, in batches of at most [`Config::max_batch`], each retried as a
    /// write after the response would be. Stops at the first batch that fails, returning how
    /// many items were written before it and the failure.
    pub async fn replay(&self, items: &[S::Item]) -> Result<Written, (usize, Failure<S::Error>)> {
        let started = Instant::now();
        let mut attempts = 0;
        for (n, batch) in items.chunks(self.shared.config.max_batch).enumerate() {
            match self
                .shared
                .config
                .retry
                .write(&self.shared.sink, batch)
                .await
            {
                Ok(made) => attempts += made,
                Err(failure) => return Err((n * self.shared.config.max_batch, failure)),
            }
        }
        Ok(Written {
            attempts,
            took: started.elapsed(),
        })
    }
}

/// Writes `item` and leaves the one line its outcome calls for; returns the outcome.
async fn settle<S: Sink>(
    shared: &Arc<Shared<S>>,
    log: &RequestLog,
    item: S::Item,
) -> Result<Written, Failure<S::Error>> {
    let started = Instant::now();
    let name = shared.sink.name();
    let Some((item, outcome)) = shared.queue.push(shared, item).await else {
        // Only when the runtime is shutting down without draining: nothing is left to log.
        log.error(&format!(
            "[after-response] an item for {name} was dropped unwritten"
        ));
        return Err(Failure::Stopped);
    };
    match outcome {
        Ok(attempts) => {
            let took = started.elapsed();
            if shared.config.success_lines {
                log.info(&log::success_line(&S::label(&item), name, attempts, took));
            }
            Ok(Written { attempts, took })
        }
        Err(Failure::Overloaded(reason)) => {
            shared.overflow.report(&item, &reason, log, name).await;
            Err(Failure::Overloaded(reason))
        }
        Err(failure) => {
            log.error(&log::failure_line(
                shared.config.event,
                name,
                std::slice::from_ref(&item),
                failure.attempts(),
                &failure.to_string(),
            ));
            Err(failure)
        }
    }
}

#[cfg(test)]
mod tests;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
