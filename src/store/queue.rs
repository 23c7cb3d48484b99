//! Coalesced, bounded background writes ("group commit").
//!
//! `wait_until` has no back-pressure: every request adds a task. This queue turns many pending
//! writes into few storage calls and keeps memory flat. Its promises:
//!
//! - **No delay when idle.** A record with nothing else waiting is written at once.
//! - **Coalescing.** Records that wait while a write is in flight go out together in the next
//!   call, at most [`Limits::max_batch`] per call, in order of arrival (oldest first).
//! - **One write in flight** per store: calls never overlap, so one instance never has two
//!   writes racing each other. Where each record lands does not depend on it: storage keeps
//!   a set ordered by time ([`super::newest`]), so batches from other instances, retries and
//!   replays may arrive in any order.
//! - **Bounded.** At most [`Limits::max_queued`] records wait; one more fails at once, so it
//!   ends as the replayable failure line instead of being held in memory. A record that has
//!   waited longer than [`Limits::max_wait`] when its turn comes fails too, so every record
//!   settles well within the function's `maxDuration` even through a long outage.
//! - **Each record's own outcome.** `submit` settles only when its own record is stored or has
//!   finally failed, so `wait_until` (and the SIGTERM drain) still covers every record.
//! - **A settle bound.** A record settles within `max_wait` plus one write's own bound (see
//!   [`Limits::settle_bound`]): a submitter whose record has settled never writes for others, so
//!   no one's outcome waits behind batches that are not theirs.
//!
//! There is no background task: whichever submitter gets the writer lock writes what is queued.
//! Only submitters whose records are still queued wait for that lock, so the number of waiting
//! tasks is bounded by the queue too, and one of them always takes the next turn.

use super::{StoreError, WriteFailure};
use crate::record::RequestRecord;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::oneshot;
// tokio's clock, not std's: the same in production, and the tests can pause it.
use tokio::time::Instant;

pub type Outcome = Result<u32, WriteFailure>;

/// How much the queue holds and how long a record may wait. Made by [`Limits::new`], which
/// refuses values that cannot work, or [`Limits::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_queued: usize,
    max_batch: usize,
    max_wait: Duration,
}

impl Default for Limits {
    /// 2000 waiting records are at most about 1 MiB; 500 records per call keep a pipeline
    /// body around 150 KiB, well below Upstash's request size limit, and let one call in
    /// flight carry tens of thousands of records per second.
    fn default() -> Self {
        Self {
            max_queued: 2000,
            max_batch: 500,
            max_wait: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// At most `max_queued` records waiting beyond the batch in flight, `max_batch` records per
    /// storage call, and `max_wait` in the queue before a record fails instead of being written.
    pub fn new(max_queued: usize, max_batch: usize, max_wait: Duration) -> Result<Self, String> {
        if max_queued == 0 {
            return Err("max_queued must be at least 1: with 0 every record is refused".into());
        }
        if max_batch == 0 {
            return Err("max_batch must be at least 1: empty batches never drain the queue".into());
        }
        if max_wait.is_zero() {
            return Err("max_wait must be above zero: any record that waits would fail".into());
        }
        Ok(Self {
            max_queued,
            max_batch,
            max_wait,
        })
    }

    pub fn max_queued(&self) -> usize {
        self.max_queued
    }

    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The longest any record takes to settle, when one write (all its attempts) takes at most
    /// `longest_write`: it waits at most `max_wait` for its turn, and the write in flight when
    /// that time is up, or its own, ends within `longest_write`.
    pub fn settle_bound(&self, longest_write: Duration) -> Duration {
        self.max_wait + longest_write
    }
}

struct Waiting {
    record: RequestRecord,
    done: oneshot::Sender<Outcome>,
    since: Instant,
}

pub struct WriteQueue {
    limits: Limits,
    waiting: Mutex<VecDeque<Waiting>>,
    writer: tokio::sync::Mutex<()>,
}

impl WriteQueue {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            waiting: Mutex::new(VecDeque::new()),
            writer: tokio::sync::Mutex::new(()),
        }
    }

    /// Queues `record` and settles with its outcome. `write` stores one batch, oldest first,
    /// retrying as it sees fit; it is called by whichever submitter holds the writer lock.
    pub async fn submit<W, F>(&self, record: RequestRecord, write: W) -> Outcome
    where
        W: Fn(Vec<RequestRecord>) -> F,
        F: Future<Output = Outcome>,
    {
        let (done, mut outcome) = oneshot::channel();
        {
            let mut waiting = self.lock_waiting();
            if waiting.len() >= self.limits.max_queued {
                return Err(WriteFailure {
                    attempts: 0,
                    error: StoreError::Overloaded(format!(
                        "the write queue is full ({} records waiting)",
                        self.limits.max_queued
                    )),
                });
            }
            waiting.push_back(Waiting {
                record,
                done,
                since: Instant::now(),
            });
        }
        loop {
            // Wait for our own outcome or for the writer lock, whichever comes first. A
            // submitter whose record went out in another's batch must leave as soon as that
            // batch settles: queued behind the lock it would stay parked (one passes per
            // storage call), and under load the parked tasks would grow without bound.
            let writer = tokio::select! {
                biased;
                result = &mut outcome => return result.unwrap_or_else(|_| Err(abandoned())),
                writer = self.writer.lock() => writer,
            };
            let batch = match self.take_turn(&mut outcome) {
                // Ours has settled (it waited too long): leave the writing to those whose
                // records still wait, or our caller would wait on batches that are not its own.
                Turn::Settled(result) => return result,
                Turn::Write(batch) => batch,
            };
            let (records, senders): (Vec<_>, Vec<_>) =
                batch.into_iter().map(|w| (w.record, w.done)).unzip();
            let result = write(records).await;
            for sender in senders {
                // A dropped receiver only means that submitter is gone; nothing to tell.
                let _ = sender.send(result.clone());
            }
            drop(writer);
        }
    }

    /// How many records are waiting now (not counting a batch in flight).
    pub fn waiting(&self) -> usize {
        self.lock_waiting().len()
    }

    /// What the holder of the writer lock does next. Records that waited too long are failed
    /// first (they are the oldest, at the front); then, if `mine` has not settled, the next
    /// batch, oldest first.
    fn take_turn(&self, mine: &mut oneshot::Receiver<Outcome>) -> Turn {
        let mut waiting = self.lock_waiting();
        while let Some(next) = waiting.front() {
            if next.since.elapsed() <= self.limits.max_wait {
                break;
            }
            if let Some(expired) = waiting.pop_front() {
                let _ = expired.done.send(Err(WriteFailure {
                    attempts: 0,
                    error: StoreError::Overloaded(format!(
                        "waited over {:?} in the write queue",
                        self.limits.max_wait
                    )),
                }));
            }
        }
        match mine.try_recv() {
            Ok(result) => return Turn::Settled(result),
            Err(oneshot::error::TryRecvError::Closed) => return Turn::Settled(Err(abandoned())),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        // Ours has not settled and no batch is in flight (we hold the writer lock), so ours is
        // still queued and the batch is never empty. Were it empty, failing this record beats
        // writing empty batches forever.
        let take = self.limits.max_batch.min(waiting.len());
        if take == 0 {
            return Turn::Settled(Err(abandoned()));
        }
        Turn::Write(waiting.drain(..take).collect())
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiting>> {
        // Every critical section is a push or a drain: a panic cannot leave the deque broken.
        crate::sync::lock_unpoisoned(&self.waiting)
    }
}

/// What a submitter holding the writer lock does.
enum Turn {
    /// Its own record has settled: it returns this and writes nothing more.
    Settled(Outcome),
    /// It writes this batch.
    Write(Vec<Waiting>),
}

/// The writer holding this record was dropped mid-write (only at a hard shutdown).
fn abandoned() -> WriteFailure {
    WriteFailure {
        attempts: 0,
        error: StoreError::Unavailable("the write was abandoned".into()),
    }
}

/// Every test runs on tokio's paused clock: sleeps take no real time and the order of events is
/// exact, so the timings asserted here hold on any machine, however loaded.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::paused_clock::within;
    use crate::store::upstash::REQUEST_TIMEOUT;
    use crate::store::upstash::retry::RetryPolicy;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn record(n: u64) -> RequestRecord {
        RequestRecord::numbered(n)
    }

    /// A storage stand-in that records each batch and takes `latency` per call.
    #[derive(Default)]
    struct Calls(Mutex<Vec<Vec<u64>>>);

    impl Calls {
        async fn write(&self, batch: Vec<RequestRecord>, latency: Duration) -> Outcome {
            self.0
                .lock()
                .unwrap()
                .push(batch.iter().map(|r| r.timestamp).collect());
            tokio::time::sleep(latency).await;
            Ok(1)
        }
        fn batches(&self) -> Vec<Vec<u64>> {
            self.0.lock().unwrap().clone()
        }
    }

    /// A submitter for each record of `numbers`, in order, `gap` apart (none: all spawned at
    /// once), each storing through `calls` at `latency` a call.
    async fn submit_in_order(
        queue: &Arc<WriteQueue>,
        calls: &Arc<Calls>,
        numbers: std::ops::RangeInclusive<u64>,
        latency: Duration,
        gap: Duration,
    ) -> Vec<tokio::task::JoinHandle<Outcome>> {
        let mut tasks = Vec::new();
        for n in numbers {
            let (queue, calls) = (queue.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                queue.submit(record(n), |b| calls.write(b, latency)).await
            }));
            if !gap.is_zero() {
                // Lets this submitter reach the queue before the next is spawned.
                tokio::time::sleep(gap).await;
            }
        }
        tasks
    }

    #[tokio::test(start_paused = true)]
    async fn a_lone_record_is_written_at_once() {
        within("a lone record is written at once", async {
            let queue = WriteQueue::new(Limits::default());
            let calls = Calls::default();
            let outcome = queue
                .submit(record(1), |b| calls.write(b, Duration::ZERO))
                .await;
            assert_eq!(outcome, Ok(1));
            assert_eq!(calls.batches(), [vec![1]]);
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn records_waiting_together_go_out_in_one_call_oldest_first() {
        within(
            "records waiting together go out in one call oldest first",
            async {
                let queue = Arc::new(WriteQueue::new(Limits::default()));
                let calls = Arc::new(Calls::default());
                let (latency, gap) = (Duration::from_millis(50), Duration::from_millis(2));
                let tasks = submit_in_order(&queue, &calls, 1..=6, latency, gap).await;
                for task in tasks {
                    assert_eq!(task.await.unwrap(), Ok(1));
                }
                // The first goes alone; the five that queued behind it share the next call.
                assert_eq!(calls.batches(), [vec![1], vec![2, 3, 4, 5, 6]]);
            },
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn each_record_settles_with_the_outcome_of_its_own_batch() {
        within(
            "each record settles with the outcome of its own batch",
            async {
                let queue = Arc::new(WriteQueue::new(Limits {
                    max_queued: 10,
                    max_batch: 2,
                    ..Limits::default()
                }));
                let fail_second_call = Arc::new(Mutex::new(0));
                let mut tasks = Vec::new();
                for n in 1..=3 {
                    let (queue, calls) = (queue.clone(), fail_second_call.clone());
                    tasks.push(tokio::spawn(async move {
                        queue
                            .submit(record(n), |_| {
                                let call = {
                                    let mut c = calls.lock().unwrap();
                                    *c += 1;
                                    *c
                                };
                                async move {
                                    tokio::time::sleep(Duration::from_millis(30)).await;
                                    match call {
                                        2 => Err(WriteFailure {
                                            attempts: 2,
                                            error: StoreError::Unavailable("down".into()),
                                        }),
                                        _ => Ok(1),
                                    }
                                }
                            })
                            .await
                    }));
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                let outcomes: Vec<_> = futures_join(tasks).await;
                assert_eq!(outcomes[0], Ok(1));
                assert!(outcomes[1].is_err() && outcomes[2].is_err(), "{outcomes:?}");
            },
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_fails_the_next_record_at_once() {
        within("a full queue fails the next record at once", async {
            let queue = Arc::new(WriteQueue::new(Limits {
                max_queued: 2,
                ..Limits::default()
            }));
            let calls = Arc::new(Calls::default());
            // One in flight (slow), two waiting: the queue is full.
            let (latency, gap) = (Duration::from_millis(200), Duration::from_millis(5));
            let tasks = submit_in_order(&queue, &calls, 1..=3, latency, gap).await;
            assert_eq!(queue.waiting(), 2);
            let refused = queue
                .submit(record(4), |b| calls.write(b, Duration::ZERO))
                .await;
            let failure = refused.unwrap_err();
            assert_eq!(failure.attempts, 0);
            assert!(
                failure.error.to_string().contains("queue is full"),
                "{failure:?}"
            );
            for task in tasks {
                assert_eq!(task.await.unwrap(), Ok(1));
            }
            assert!(calls.batches().iter().all(|b| !b.contains(&4)));
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn batches_never_exceed_the_cap() {
        within("batches never exceed the cap", async {
            let queue = Arc::new(WriteQueue::new(Limits {
                max_batch: 3,
                ..Limits::default()
            }));
            let calls = Arc::new(Calls::default());
            let latency = Duration::from_millis(10);
            let tasks = submit_in_order(&queue, &calls, 1..=10, latency, Duration::ZERO).await;
            futures_join(tasks).await;
            let batches = calls.batches();
            assert!(batches.iter().all(|b| b.len() <= 3), "{batches:?}");
            assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 10);
        })
        .await
    }

    /// More waiting than one call takes: the oldest go first, so storage keeps the order of
    /// arrival across batches, and the oldest are not left to run out of time.
    #[tokio::test(start_paused = true)]
    async fn capped_batches_go_out_oldest_first() {
        within("capped batches", async {
            let queue = Arc::new(WriteQueue::new(Limits {
                max_batch: 3,
                ..Limits::default()
            }));
            let calls = Arc::new(Calls::default());
            let (latency, gap) = (Duration::from_millis(50), Duration::from_millis(2));
            let tasks = submit_in_order(&queue, &calls, 1..=10, latency, gap).await;
            futures_join(tasks).await;
            assert_eq!(
                calls.batches(),
                [vec![1], vec![2, 3, 4], vec![5, 6, 7], vec![8, 9, 10]]
            );
        })
        .await
    }

    /// Record 1 is written from 0 to 200 ms; record 2 queues at 10 ms, so its turn comes after
    /// it waited 190 ms. Returns 2's outcome and the batches written.
    async fn second_record_waiting_190_ms(max_wait: Duration) -> (Outcome, Vec<Vec<u64>>) {
        let queue = Arc::new(WriteQueue::new(Limits {
            max_wait,
            ..Limits::default()
        }));
        let calls = Arc::new(Calls::default());
        let first = {
            let (queue, calls) = (queue.clone(), calls.clone());
            tokio::spawn(async move {
                queue
                    .submit(record(1), |b| calls.write(b, Duration::from_millis(200)))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let second = queue
            .submit(record(2), |b| calls.write(b, Duration::ZERO))
            .await;
        assert_eq!(first.await.unwrap(), Ok(1));
        (second, calls.batches())
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_that_waited_too_long_fails_instead_of_being_written() {
        within(
            "a record that waited too long fails instead of being written",
            async {
                let (late, batches) =
                    second_record_waiting_190_ms(Duration::from_millis(189)).await;
                let failure = late.unwrap_err();
                assert_eq!(failure.attempts, 0);
                assert!(
                    failure.error.to_string().contains("in the write queue"),
                    "{failure:?}"
                );
                assert_eq!(batches, [vec![1]]);
            },
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_that_waited_exactly_the_limit_is_still_written() {
        within(
            "a record that waited exactly the limit is still written",
            async {
                let (on_time, batches) =
                    second_record_waiting_190_ms(Duration::from_millis(190)).await;
                assert_eq!(on_time, Ok(1));
                assert_eq!(batches, [vec![1], vec![2]]);
            },
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_written_in_anothers_batch_settles_without_waiting_for_the_next_write() {
        within(
            "a record written in anothers batch settles without waiting for the next write",
            async {
                let queue = Arc::new(WriteQueue::new(Limits::default()));
                let calls = Arc::new(Calls::default());
                let submit = |n: u64| {
                    let (queue, calls) = (queue.clone(), calls.clone());
                    tokio::spawn(async move {
                        let outcome = queue
                            .submit(record(n), |b| calls.write(b, Duration::from_millis(150)))
                            .await;
                        (outcome, tokio::time::Instant::now())
                    })
                };
                let start = tokio::time::Instant::now();
                let first = submit(1); // written alone
                tokio::time::sleep(Duration::from_millis(20)).await;
                let (second, third) = (submit(2), submit(3)); // one batch, written by 2's submitter
                tokio::time::sleep(Duration::from_millis(150)).await;
                let fourth = submit(4); // queued while 2 and 3 are in flight: the next write
                let (second, third) = (second.await.unwrap(), third.await.unwrap());
                assert_eq!((second.0, third.0), (Ok(1), Ok(1)));
                // 1 is written from 0 to 150 ms, then 2 and 3 together until 300 ms. 3 leaves the
                // moment its batch settles, not after 4's write holds the writer until 450 ms.
                assert_eq!(second.1 - start, Duration::from_millis(300));
                assert_eq!(third.1 - start, Duration::from_millis(300));
                let fourth = fourth.await.unwrap();
                assert_eq!(fourth.1 - start, Duration::from_millis(450));
                assert_eq!(fourth.0, Ok(1));
                assert_eq!(first.await.unwrap().0, Ok(1));
                assert_eq!(calls.batches(), [vec![1], vec![2, 3], vec![4]]);
            },
        )
        .await
    }

    /// Storage that is slow under sustained load: every attempt runs into the request timeout
    /// (the worst case), or, for `answers_every` > 0, every that-many-th attempt succeeds just
    /// under it. Writes go through the real retry policy, so the waits between attempts are
    /// the real backoff.
    async fn slow_storage(
        policy: RetryPolicy,
        calls: Arc<AtomicU32>,
        answers_every: u32,
    ) -> Outcome {
        policy
            .run(|| async {
                let call = calls.fetch_add(1, Ordering::Relaxed) + 1;
                if answers_every > 0 && call.is_multiple_of(answers_every) {
                    tokio::time::sleep(REQUEST_TIMEOUT - Duration::from_millis(1)).await;
                    Ok(())
                } else {
                    tokio::time::sleep(REQUEST_TIMEOUT).await;
                    Err(StoreError::Unavailable("storage timed out".into()))
                }
            })
            .await
            .map(|((), attempts)| attempts)
    }

    /// The settle bound is kept: a record every 5 ms for a minute against slow storage, and
    /// each one settles (stored, refused as the queue is full, or failed after waiting too
    /// long) within `max_wait` plus the longest write, computed from the real constants.
    #[tokio::test(start_paused = true)]
    async fn every_record_settles_within_the_bound_under_sustained_load() {
        within(
            "every record settles within the bound under sustained load",
            async {
                let (limits, policy) = (Limits::default(), RetryPolicy::default());
                let bound = limits.settle_bound(policy.longest_write(REQUEST_TIMEOUT));
                assert_eq!(bound, Duration::from_secs(21));
                for answers_every in [0, 4] {
                    let queue = Arc::new(WriteQueue::new(limits));
                    let calls = Arc::new(AtomicU32::new(0));
                    let mut tasks = Vec::new();
                    for n in 0..12_000 {
                        let (queue, calls) = (queue.clone(), calls.clone());
                        tasks.push(tokio::spawn(async move {
                            let queued = Instant::now();
                            let outcome = queue
                                .submit(record(n), |_| {
                                    slow_storage(policy, calls.clone(), answers_every)
                                })
                                .await;
                            (outcome, queued.elapsed())
                        }));
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    let mut slowest = Duration::ZERO;
                    let (mut stored, mut waited_too_long) = (0, 0);
                    for task in tasks {
                        let (outcome, took) = task.await.unwrap();
                        assert!(took <= bound, "settled after {took:?}: {outcome:?}");
                        slowest = slowest.max(took);
                        match outcome {
                            Ok(_) => stored += 1,
                            Err(failure) if failure.error.to_string().contains("waited over") => {
                                waited_too_long += 1
                            }
                            Err(_) => {}
                        }
                    }
                    // The load reached every path that could break the bound.
                    assert!(slowest > limits.max_wait(), "{answers_every}: {slowest:?}");
                    assert!(waited_too_long > 0, "{answers_every}");
                    assert_eq!(stored > 0, answers_every > 0, "{answers_every}");
                }
            },
        )
        .await
    }

    #[test]
    fn limits_that_cannot_work_are_refused() {
        let second = Duration::from_secs(1);
        assert!(
            Limits::new(0, 1, second)
                .unwrap_err()
                .contains("max_queued")
        );
        assert!(Limits::new(1, 0, second).unwrap_err().contains("max_batch"));
        assert!(
            Limits::new(1, 1, Duration::ZERO)
                .unwrap_err()
                .contains("max_wait")
        );
        let limits = Limits::new(3, 2, second).unwrap();
        assert_eq!(
            (limits.max_queued(), limits.max_batch(), limits.max_wait()),
            (3, 2, second)
        );
    }

    async fn futures_join(tasks: Vec<tokio::task::JoinHandle<Outcome>>) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        outcomes
    }
}
