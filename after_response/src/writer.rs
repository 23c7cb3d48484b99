//! The one writer of a handle: items go in, a batch comes out, the sink is called, and each
//! item goes back to the request waiting for it with its batch's outcome.
//!
//! - The channel holds at most `max_queued` items: one more is refused at once, so memory stays
//!   flat however many requests come.
//! - The writer takes the oldest waiting item and whatever queued behind it, up to `max_batch`,
//!   with the items of requests ready to run ([`gather`]); an idle writer sends an item the
//!   moment it arrives. An item that waited over `max_wait` is refused when its turn comes
//!   instead of being written.
//! - The sink call runs in a task of its own, so a panicking sink fails its batch (every item
//!   comes back, for its failure line) instead of stopping the writer.
//!
//! The writer starts on the first push, on that push's runtime, and lives as long as it.

use crate::{Config, Failure, Outcome, Shared, Sink};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};
// tokio's clock, not std's: the same in production, and the tests can pause it.
use tokio::time::Instant;

/// An item back from the writer, with what became of it.
type Back<S> = (<S as Sink>::Item, Outcome<<S as Sink>::Error>);

struct Job<S: Sink> {
    item: S::Item,
    since: Instant,
    done: oneshot::Sender<Back<S>>,
}

pub(crate) struct Queue<S: Sink> {
    jobs: mpsc::Sender<Job<S>>,
    /// The writer's end, until the first push starts it.
    unstarted: Mutex<Option<mpsc::Receiver<Job<S>>>>,
}

impl<S: Sink> Queue<S> {
    pub(crate) fn new(max_queued: usize) -> Self {
        let (jobs, receiver) = mpsc::channel(max_queued);
        Self {
            jobs,
            unstarted: Mutex::new(Some(receiver)),
        }
    }

    /// Queues `item` and hands it back with its outcome once its batch is written or it is
    /// refused; `None` only if the writer was dropped with it (the runtime shut down).
    pub(crate) async fn push(&self, shared: &Arc<Shared<S>>, item: S::Item) -> Option<Back<S>> {
        // A panic cannot leave an `Option` half taken, so a poisoned lock is still sound.
        let unstarted = self
            .unstarted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(jobs) = unstarted {
            tokio::spawn(write_batches(Arc::clone(shared), jobs));
        }
        let (done, back) = oneshot::channel();
        let job = Job {
            item,
            since: Instant::now(),
            done,
        };
        if let Err(refused) = self.jobs.try_send(job) {
            let failure = match refused {
                mpsc::error::TrySendError::Full(_) => Failure::Overloaded(format!(
                    "the queue is full ({} items waiting)",
                    shared.config.max_queued
                )),
                mpsc::error::TrySendError::Closed(_) => Failure::Stopped,
            };
            return Some((refused.into_inner().item, Err(failure)));
        }
        back.await.ok()
    }
}

/// The writer: one batch at a time, until the runtime stops.
async fn write_batches<S: Sink>(shared: Arc<Shared<S>>, mut jobs: mpsc::Receiver<Job<S>>) {
    while let Some(oldest) = jobs.recv().await {
        let batch = gather(&mut jobs, oldest, &shared.config).await;
        if batch.is_empty() {
            continue;
        }
        let (items, dones): (Vec<_>, Vec<_>) = batch.into_iter().map(|j| (j.item, j.done)).unzip();
        let items = Arc::new(items);
        let call = {
            let (shared, items) = (Arc::clone(&shared), Arc::clone(&items));
            tokio::spawn(async move { shared.config.retry.write(&shared.sink, &items).await })
        };
        let outcome = call.await.unwrap_or(Err(Failure::Stopped));
        // The call's task has ended (returned or unwound), so this is the last holder.
        let items = Arc::into_inner(items).unwrap_or_default();
        for (item, done) in items.into_iter().zip(dones) {
            // A dropped receiver only means that request is gone; nothing to tell.
            let _ = done.send((item, outcome.clone()));
        }
    }
}

/// The next batch: `oldest` and what queued behind it, at most `max_batch`, refusing what
/// waited over `max_wait`. Group commit without a timer: when the channel is empty the writer
/// yields once, which puts it behind every task ready to run, so requests already being handled
/// hand in their items first and share the call; the first yield that brings nothing ends the
/// batch. Idle, that costs microseconds; under load it keeps calls (which storage bills) few.
async fn gather<S: Sink>(
    jobs: &mut mpsc::Receiver<Job<S>>,
    oldest: Job<S>,
    config: &Config,
) -> Vec<Job<S>> {
    let mut batch = Vec::new();
    let mut next = Some(oldest);
    while let Some(job) = next {
        if job.since.elapsed() > config.max_wait {
            let reason = format!("waited over {:?} in the queue", config.max_wait);
            let _ = job.done.send((job.item, Err(Failure::Overloaded(reason))));
        } else {
            batch.push(job);
            if batch.len() == config.max_batch {
                break;
            }
        }
        next = match jobs.try_recv() {
            Ok(job) => Some(job),
            Err(_) => {
                tokio::task::yield_now().await;
                jobs.try_recv().ok()
            }
        };
    }
    batch
}

#[cfg(test)]
mod tests;
