use super::*;
use crate::log::failure_line;
use crate::testing::Scripted;

const EVENT: &str = "test.failed";

fn read_log(log: &str) -> Found<u64> {
    read::<Scripted>(EVENT, log)
}

fn line(items: &[u64]) -> String {
    failure_line(EVENT, "scripted", items, 4, "storage answered HTTP 503")
}

#[test]
fn replayable_failure_lines_are_found_among_other_lines_and_behind_prefixes() {
    let log = format!(
        "storage: up\n2026-11-22T16:00:00Z error {}\n[after-response] wrote x\n{} trailing\n{{\"event\":\"other\",\"items\":[9]}}\n",
        line(&[1]),
        line(&[2, 3]),
    );
    let found = read_log(&log);
    assert_eq!(found.items, [1, 2, 3]);
    assert_eq!((found.lines, found.invalid, found.unreadable), (2, 0, 0));
}

#[test]
fn lines_of_the_app_before_the_crate_are_read_too() {
    let records = format!(r#"{{"event":"{EVENT}","storage":"upstash","records":[4,5]}}"#);
    let record = format!(r#"{{"event":"{EVENT}","storage":"upstash","record":6}}"#);
    assert_eq!(read_log(&format!("{records}\n{record}")).items, [4, 5]);
    let one = format!(r#"{{"event":"{EVENT}","record":{{"n":1}}}}"#);
    assert_eq!(read_log(&one).invalid, 1);
}

#[test]
fn the_message_of_a_cli_json_line_or_a_drain_entry_is_read_every_line_of_it() {
    let cli = serde_json::json!({
        "type": "log",
        "data": { "level": "error", "message": format!("{}\n{}\n", line(&[7]), line(&[8])) },
    });
    let drain = serde_json::json!({ "id": "1", "message": line(&[9]) });
    let found = read_log(&format!("{cli}\n{drain}"));
    assert_eq!(found.items, [7, 8, 9]);
    assert_eq!((found.lines, found.unreadable), (3, 0));
}

#[test]
fn a_cli_summary_with_more_pages_is_reported() {
    let done = r#"{"type":"summary","pagination":{"hasMore":false,"next":null}}"#;
    assert_eq!(read_log(done).more_pages, None);
    let more = r#"  {"type":"summary","pagination":{"hasMore":true,"next":"c-42"}}"#;
    assert_eq!(read_log(more).more_pages.as_deref(), Some("c-42"));
    // Only the summary says so: an entry that happens to carry `pagination` does not.
    let entry = r#"{"type":"log","pagination":{"hasMore":true,"next":"x"}}"#;
    assert_eq!(read_log(entry).more_pages, None);
}

#[test]
fn what_names_the_event_but_cannot_be_read_is_counted_unreadable() {
    let whole = line(&[1]);
    let cut_message =
        serde_json::json!({"type": "log", "data": {"message": &whole[..whole.len() - 5]}});
    let elsewhere = serde_json::json!({"type": "log", "data": {"text": line(&[2]), "message": ""}});
    let no_items = format!(r#"{{"event":"{EVENT}","count":1}}"#);
    for (log, lines) in [
        (cut_message.to_string(), 0),
        (elsewhere.to_string(), 0),
        (whole[..whole.len() / 2].to_string(), 0),
        (no_items, 1),
    ] {
        let found = read_log(&log);
        assert!(found.items.is_empty(), "{log}");
        assert_eq!((found.lines, found.unreadable), (lines, 1), "{log}");
    }
}

#[test]
fn each_label_once_and_what_is_not_an_item_counted_invalid() {
    let log = format!(
        "{}\n{}\n{}",
        line(&[1, 2]),
        line(&[2]),
        line(&[]).replace("[]", r#"["x",-1]"#)
    );
    let found = read_log(&log);
    assert_eq!(found.items, [1, 2]);
    assert_eq!((found.duplicates, found.invalid), (1, 2));
}

#[test]
fn lines_without_the_event_are_ignored() {
    assert_eq!(
        read_log("{\"message\":\"hello\"}\nplain\n{not json"),
        Found::default()
    );
}

mod through_the_handle {
    use super::super::Said;
    use crate::testing::*;
    use crate::{Config, log::failure_line};
    use std::time::Duration;

    fn handle_with(sink: Scripted) -> crate::AfterResponse<Scripted> {
        handle(
            sink,
            Config {
                event: super::EVENT,
                ..Config::default()
            },
        )
    }

    fn said(lines: &[Said]) -> Vec<String> {
        lines
            .iter()
            .map(|line| match line {
                Said::Out(text) => format!("out {text}"),
                Said::Err(text) => format!("err {text}"),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn replayable_a_log_s_items_go_back_to_the_sink_and_the_report_says_what_happened() {
        within("replay_log", async {
            let handle = handle_with(Scripted::taking(Duration::ZERO));
            assert_eq!(handle.config().event, super::EVENT);
            let cut = super::line(&[3]);
            let log = format!("{}\n{}\n", super::line(&[1, 2]), &cut[..cut.len() / 2]);
            assert_eq!(handle.read_log(&log).items, [1, 2]);
            let (found, report) = handle.replay_reported(&log).await;
            assert_eq!(found.map(|found| found.items), Some(vec![1, 2]));
            assert_eq!(handle.sink().batches(), [vec![1, 2]]);
            // What a replay binary calls: the same, printed.
            let found = handle.replay_log(&log).await.map(|found| found.items);
            assert_eq!(found, Some(vec![1, 2]));
            assert_eq!(handle.sink().batches(), [vec![1, 2], vec![1, 2]]);
            assert!(handle.replay_log("no failure here").await.is_none());
            assert_eq!(
                said(&report),
                [
                    "out replay: found 2 items in 1 failure lines (0 invalid, 1 unreadable, 0 duplicates skipped)",
                    "err replay: 1 lines name a failure but could not be read (cut or edited); their items are not replayed",
                    "out replay: wrote 2 items to scripted",
                ]
            );
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn replayable_nothing_found_or_a_failed_write_is_none_and_says_so() {
        within("replay_log failures", async {
            let handle = handle_with(Scripted::taking(Duration::ZERO));
            let (found, report) = handle.replay_reported("no failure here").await;
            assert!(found.is_none());
            assert!(said(&report)[1].starts_with("err replay: nothing to write"), "{report:?}");
            assert!(handle.sink().batches().is_empty());

            let refusing = handle_with(Scripted::new(|_| (Duration::ZERO, Err(TestError { retry: false }))));
            let log = failure_line(super::EVENT, "scripted", &[7], 1, "down");
            let (found, report) = refusing.replay_reported(&log).await;
            assert!(found.is_none());
            assert_eq!(
                said(&report)[1],
                "err replay: scripted failed after 1 attempt (0 of 1 items written): refused; nothing was lost, run it again"
            );
            let retried = handle_with(Scripted::new(|_| (Duration::from_millis(1), Err(TestError { retry: true }))));
            let (_, report) = retried.replay_reported(&log).await;
            assert!(said(&report)[1].contains("failed after 4 attempts"), "{report:?}");
            let more = r#"{"type":"summary","pagination":{"hasMore":true,"next":"c-1"}}"#;
            let (_, report) = handle.replay_reported(&format!("{log}\n{more}")).await;
            assert!(said(&report)[1].contains("`--next c-1`"), "{report:?}");
        })
        .await
    }
}
