//! Failure lines under overload, grouped: one line for many records.
//!
//! When an instance takes more fires than storage can absorb, the write queue refuses records
//! (full, or waited too long for their turn) thousands of times a second. One failure line per
//! record would turn an overload into a flood of logs, exactly when logs matter most. So these
//! records are grouped:
//!
//! - A group collects the records that overflowed within [`Grouping::window`] of its first one,
//!   up to [`Grouping::max_bytes`] of records; one more opens the next group.
//! - Each group becomes one failure line (same shape as any other, `records` holding them
//!   all), written once, by whichever of its reporters takes it first: the one that found it
//!   full, or the first to wake when its window ends. That line goes to the taker's request log.
//! - Every reporter returns only once the line holding its record is written, so a request's
//!   `wait_until` (and the SIGTERM drain) still covers its record: nothing is lost by grouping.

use super::lines::failure_line;
use super::log::RequestLog;
use crate::record::RequestRecord;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    /// How long a group stays open after its first record.
    pub window: Duration,
    /// Serialised records per line at most; far below Vercel's 256 KB per log line, so a
    /// group line is never cut (a cut line could not be replayed).
    pub max_bytes: usize,
}

impl Default for Grouping {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(1),
            max_bytes: 64 * 1024,
        }
    }
}

struct Group {
    id: u64,
    records: Vec<RequestRecord>,
    bytes: usize,
    /// Distinct reasons, in order of first appearance.
    errors: Vec<String>,
    closes_at: Instant,
    written: watch::Sender<bool>,
}

struct Open {
    next_id: u64,
    group: Option<Group>,
}

pub struct Overflow {
    storage: &'static str,
    grouping: Grouping,
    open: Mutex<Open>,
}

impl Overflow {
    pub fn new(storage: &'static str, grouping: Grouping) -> Self {
        Self {
            storage,
            grouping,
            open: Mutex::new(Open {
                next_id: 0,
                group: None,
            }),
        }
    }

    /// Adds `record`, refused for `reason`, to the open group and returns once a failure line
    /// holding it has been written (to `log` or to another reporter's log).
    pub async fn report(&self, record: RequestRecord, reason: String, log: &RequestLog) {
        let (mine, mut written, closes_at, full) = self.join(record, reason);
        if let Some(full) = full {
            self.write(full, log);
        }
        tokio::select! {
            // Taken and written by another reporter.
            _ = written.wait_for(|done| *done) => return,
            _ = tokio::time::sleep_until(closes_at) => {}
        }
        let taken = {
            let mut open = self.lock();
            match &open.group {
                Some(group) if group.id == mine => open.group.take(),
                _ => None,
            }
        };
        match taken {
            Some(group) => self.write(group, log),
            // Another reporter took it at the same moment; it writes before it next yields.
            None => {
                let _ = written.wait_for(|done| *done).await;
            }
        }
    }

    /// Puts `record` in the open group, or opens a new one. Returns the group's id, a way to
    /// learn it was written, when it closes, and a group that just became full, to write now.
    fn join(
        &self,
        record: RequestRecord,
        reason: String,
    ) -> (u64, watch::Receiver<bool>, Instant, Option<Group>) {
        let size = record.to_json().len();
        let mut open = self.lock();
        let fits = open
            .group
            .as_ref()
            .is_some_and(|group| group.bytes + size <= self.grouping.max_bytes);
        let full = if fits { None } else { open.group.take() };
        let open = &mut *open;
        let id = open.next_id;
        let closes_at = Instant::now() + self.grouping.window;
        let group = open.group.get_or_insert_with(|| Group {
            id,
            records: Vec::new(),
            bytes: 0,
            errors: Vec::new(),
            closes_at,
            written: watch::Sender::new(false),
        });
        if group.id == id {
            open.next_id += 1;
        }
        group.records.push(record);
        group.bytes += size;
        if !group.errors.contains(&reason) {
            group.errors.push(reason);
        }
        (group.id, group.written.subscribe(), group.closes_at, full)
    }

    fn write(&self, group: Group, log: &RequestLog) {
        log.error(&failure_line(
            self.storage,
            &group.records,
            0,
            &group.errors.join("; "),
        ));
        group.written.send_replace(true);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        // Every critical section is a push or a take: a panic cannot leave a group half made.
        crate::sync::lock_unpoisoned(&self.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paused_clock::within;
    use crate::record::numbered_id;
    use std::sync::Arc;

    /// 100-byte user agents, so that a group's size in bytes is easy to reason about.
    fn record(n: u64) -> RequestRecord {
        RequestRecord {
            user_agent: "x".repeat(100),
            ..RequestRecord::numbered(n)
        }
    }

    /// The records of every failure line written, line by line.
    fn written(lines: &Mutex<Vec<String>>) -> Vec<Vec<String>> {
        lines
            .lock()
            .unwrap()
            .iter()
            .map(|line| {
                let json = line.strip_prefix("error ").expect("an error line");
                let value: serde_json::Value = serde_json::from_str(json).unwrap();
                assert_eq!(value["attempts"], 0);
                value["records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    /// Reports records `range` from as many tasks, one after another at `every`, and returns
    /// when each settled, measured from the start.
    async fn report_all(
        overflow: &Arc<Overflow>,
        log: &RequestLog,
        range: std::ops::Range<u64>,
        every: Duration,
    ) -> Vec<Duration> {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for n in range {
            let (overflow, log) = (overflow.clone(), log.clone());
            tasks.push(tokio::spawn(async move {
                overflow.report(record(n), "queue full".into(), &log).await;
                started.elapsed()
            }));
            tokio::time::sleep(every).await;
        }
        let mut settled = Vec::new();
        for task in tasks {
            settled.push(task.await.unwrap());
        }
        settled
    }

    fn grouping(window_ms: u64, max_bytes: usize) -> Grouping {
        Grouping {
            window: Duration::from_millis(window_ms),
            max_bytes,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn records_refused_within_a_window_share_one_line_written_when_it_ends() {
        within(
            "records refused within a window share one line written when it ends",
            async {
                let overflow = Arc::new(Overflow::new("upstash", grouping(1000, 64 * 1024)));
                let (log, lines) = RequestLog::in_memory();
                let settled = report_all(&overflow, &log, 0..5, Duration::from_millis(100)).await;
                let ids: Vec<String> = (0..5).map(|n| record(n).id).collect();
                assert_eq!(written(&lines), [ids]);
                // Nobody leaves before the line holding their record is written, at the window's end.
                assert!(
                    settled.iter().all(|t| *t == Duration::from_millis(1000)),
                    "{settled:?}"
                );
            },
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_after_the_window_opens_the_next_group() {
        within("a refusal after the window opens the next group", async {
            let overflow = Arc::new(Overflow::new("upstash", grouping(300, 64 * 1024)));
            let (log, lines) = RequestLog::in_memory();
            report_all(&overflow, &log, 0..6, Duration::from_millis(100)).await;
            let groups = written(&lines);
            assert_eq!(groups.len(), 2, "{groups:?}");
            let ids = |range: std::ops::Range<u64>| range.map(numbered_id).collect::<Vec<_>>();
            assert_eq!(groups[0], ids(0..3));
            assert_eq!(groups[1], ids(3..6));
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_group_is_written_at_once_and_every_record_lands_in_exactly_one_line() {
        within(
            "a full group is written at once and every record lands in exactly one line",
            async {
                let size = record(0).to_json().len();
                let overflow = Arc::new(Overflow::new("upstash", grouping(1000, size * 4)));
                let (log, lines) = RequestLog::in_memory();
                let settled = report_all(&overflow, &log, 0..10, Duration::ZERO).await;
                let groups = written(&lines);
                assert_eq!(
                    groups.iter().map(Vec::len).collect::<Vec<_>>(),
                    [4, 4, 2],
                    "{groups:?}"
                );
                let mut all: Vec<String> = groups.concat();
                all.sort();
                assert_eq!(all, (0..10).map(|n| record(n).id).collect::<Vec<_>>());
                // The two full groups were written as soon as the next record did not fit.
                assert_eq!(settled[..8], [Duration::ZERO; 8]);
                assert_eq!(settled[8..], [Duration::from_millis(1000); 2]);
            },
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_line_lists_each_distinct_reason_once() {
        within("a line lists each distinct reason once", async {
            let overflow = Arc::new(Overflow::new("upstash", grouping(100, 64 * 1024)));
            let (log, lines) = RequestLog::in_memory();
            let reasons: [&'static str; 3] = ["queue full", "waited too long", "queue full"];
            let tasks: Vec<_> = reasons
                .into_iter()
                .enumerate()
                .map(|(n, reason)| {
                    let (overflow, log) = (overflow.clone(), log.clone());
                    tokio::spawn(async move {
                        overflow
                            .report(record(n as u64), reason.to_string(), &log)
                            .await
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let line = lines.lock().unwrap()[0].clone();
            let value: serde_json::Value =
                serde_json::from_str(line.strip_prefix("error ").unwrap()).unwrap();
            assert_eq!(value["error"], "queue full; waited too long");
            assert_eq!(value["count"], 3);
            assert_eq!(value["storage"], "upstash");
        })
        .await
    }
}
