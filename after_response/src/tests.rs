//! The handle as a route uses it, with the runtime's own `AppState`.

use crate::testing::*;
use crate::{Config, Failure};
use std::time::Duration;
use vercel_runtime::{AppState, LogContext};

const MS: Duration = Duration::from_millis(1);

fn state() -> AppState {
    AppState::new(LogContext::new(None, None, None))
}

#[tokio::test(start_paused = true)]
async fn submitting_returns_at_once_and_the_item_is_written_after() {
    within("submit returns at once", async {
        let handle = handle(Scripted::taking(MS * 100), Config::default());
        let started = tokio::time::Instant::now();
        handle.submit(&http::Request::new(()), &state(), 1);
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(handle.sink().batches().is_empty());
        tokio::time::sleep(MS * 150).await;
        assert_eq!(handle.sink().batches(), [vec![1]]);
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn submitting_awaited_writes_before_it_returns_and_says_how_it_went() {
    within("submit_awaited", async {
        let handle = handle(Scripted::taking(MS * 100), Config::default());
        let written = handle
            .submit_awaited(&http::Request::new(()), &state(), 1)
            .await
            .unwrap();
        assert_eq!((written.attempts, written.took), (1, MS * 100));
        let refusing = handle_refusing();
        let failure = refusing
            .submit_awaited(&http::Request::new(()), &state(), 2)
            .await;
        assert_eq!(
            failure,
            Err(Failure::Sink {
                error: TestError { retry: false },
                attempts: 1
            })
        );
    })
    .await
}

fn handle_refusing() -> crate::AfterResponse<Scripted> {
    handle(
        Scripted::new(|_| (MS, Err(TestError { retry: false }))),
        Config::default(),
    )
}

#[tokio::test(start_paused = true)]
async fn replayable_items_go_back_in_batches_of_the_cap_and_a_failure_says_how_many_were_written() {
    within("replay", async {
        let config = Config {
            max_batch: 2,
            ..Config::default()
        };
        let handle = handle(Scripted::taking(MS), config);
        assert_eq!(handle.replay(&[1, 2, 3]).await.unwrap().attempts, 2);
        assert_eq!(handle.sink().batches(), [vec![1, 2], vec![3]]);
        let failing = handle_failing_on(2, config);
        let (written, failure) = failing.replay(&[1, 2, 3, 4, 5]).await.unwrap_err();
        assert_eq!((written, failure.attempts()), (2, 1));
        assert_eq!(failing.sink().batches(), [vec![1, 2], vec![3, 4]]);
    })
    .await
}

fn handle_failing_on(call: usize, config: Config) -> crate::AfterResponse<Scripted> {
    let sink = Scripted::new(move |n| {
        (
            MS,
            if n == call {
                Err(TestError { retry: false })
            } else {
                Ok(())
            },
        )
    });
    handle(sink, config)
}

#[test]
fn the_readme_bounds_are_the_code_s() {
    let readme = include_str!("../README.md")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let config = Config::default();
    for phrase in [
        format!("| `max_queued` | {} |", config.max_queued),
        format!("| `max_batch` | {} |", config.max_batch),
        format!("| `max_wait` | {} s |", config.max_wait.as_secs()),
        format!("| `retry.max_attempts` | {} |", config.retry.max_attempts),
        format!(
            "| `retry.deadline` | {} s |",
            config.retry.deadline.as_secs()
        ),
        format!(
            "| `retry.attempt_timeout` | {} s |",
            config.retry.attempt_timeout.as_secs()
        ),
        format!(
            "a write ends within {} s",
            config.retry.longest_write().as_secs()
        ),
        format!("settles within {} s", config.settle_bound().as_secs()),
        format!("| `event` | `{}` |", config.event),
    ] {
        assert!(readme.contains(&phrase), "README.md should say {phrase:?}");
    }
}
