//! Finding the failed items in exported logs, so they can be written again.
//!
//! What [`AfterResponse::read_log`](crate::AfterResponse::read_log) reads, line by line, mixed
//! freely:
//! - a failure line as the function printed it (stderr locally);
//! - the same behind a prefix (a timestamp, a level): the first `{` starts it, and whatever
//!   follows the JSON object is ignored;
//! - the JSON lines of `vercel logs --json` (`{"type":"log","data":{"message":…}}`), where the
//!   function's text is `data.message` (possibly several lines), and log-drain objects with a
//!   top-level `message`. The CLI's closing `summary` line says whether the query had more
//!   entries than it printed: that is reported ([`Found::more_pages`]), never dropped.
//!
//! What it promises:
//! - An item is whatever deserialises as the sink's item; anything else is counted invalid,
//!   never replayed. (Give the item a `Deserialize` that checks what it must.)
//! - Each label ([`Sink::label`]) once, in the order first found; sort if order matters
//!   (`vercel logs` prints newest first).
//! - A line that names the event but cannot be read (cut, or edited) is counted unreadable, so
//!   a partial export is never mistaken for a complete one.
//!
//! Besides `items`, a failure line's `records` (an array) or `record` (one object) are read:
//! the lines of the app this crate came from, before it was a crate.

use crate::{AfterResponse, Sink};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// What a log held.
#[derive(Debug, PartialEq, Eq)]
pub struct Found<T> {
    /// The items to write again, each label once, in the order first found.
    pub items: Vec<T>,
    /// Failure lines read.
    pub lines: usize,
    /// Items in failure lines that are not items of this sink.
    pub invalid: usize,
    /// Lines that name the event but hold no readable failure line.
    pub unreadable: usize,
    /// Items seen again (the same line exported twice, say).
    pub duplicates: usize,
    /// The export stopped at its limit and more entries matched: the CLI's `next` cursor.
    pub more_pages: Option<String>,
}

impl<T> Default for Found<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            lines: 0,
            invalid: 0,
            unreadable: 0,
            duplicates: 0,
            more_pages: None,
        }
    }
}

impl<S: Sink> AfterResponse<S> {
    /// What a replay binary does with exported logs: finds the failed items, says on stdout what
    /// it found (on stderr what it could not read, and a `--next` cursor when the export was
    /// cut), writes them again, and says how that went. Returns what it found once all of it is
    /// written; `None` when nothing was found or a write failed (nothing is lost: run it again).
    pub async fn replay_log(&self, log: &str) -> Option<Found<S::Item>> {
        let (found, report) = self.replay_reported(log).await;
        for line in report {
            match line {
                Said::Out(line) => println!("{line}"),
                Said::Err(line) => eprintln!("{line}"),
            }
        }
        found
    }

    async fn replay_reported(&self, log: &str) -> (Option<Found<S::Item>>, Vec<Said>) {
        let found = self.read_log(log);
        let (sink, items) = (self.sink().name(), found.items.len());
        let mut said = vec![Said::Out(format!(
            "replay: found {items} items in {} failure lines ({} invalid, {} unreadable, {} duplicates skipped)",
            found.lines, found.invalid, found.unreadable, found.duplicates
        ))];
        if found.unreadable > 0 {
            said.push(Said::Err(format!(
                "replay: {} lines name a failure but could not be read (cut or edited); their items are not replayed",
                found.unreadable
            )));
        }
        if let Some(next) = &found.more_pages {
            said.push(Said::Err(format!(
                "replay: the export stopped at its --limit and more entries matched: export the next page with `--next {next}` and replay it too"
            )));
        }
        if items == 0 {
            let nothing =
                "replay: nothing to write (no failure lines with valid items in the input)";
            said.push(Said::Err(nothing.into()));
            return (None, said);
        }
        match self.replay(&found.items).await {
            Ok(_) => said.push(Said::Out(format!("replay: wrote {items} items to {sink}"))),
            Err((written, failure)) => {
                let attempts = failure.attempts();
                let plural = if attempts == 1 { "" } else { "s" };
                said.push(Said::Err(format!(
                    "replay: {sink} failed after {attempts} attempt{plural} ({written} of {items} items written): {failure}; nothing was lost, run it again"
                )));
                return (None, said);
            }
        }
        (Some(found), said)
    }
}

/// A line of a replay's report, and where it goes.
#[derive(Debug, PartialEq, Eq)]
enum Said {
    Out(String),
    Err(String),
}

/// Every failed item of `event` in `log`.
pub(crate) fn read<S: Sink>(event: &str, log: &str) -> Found<S::Item> {
    let mut scan = Scan::<S> {
        event,
        found: Found::default(),
        seen: HashSet::new(),
    };
    for line in log.lines() {
        scan.line(line);
    }
    scan.found
}

struct Scan<'a, S: Sink> {
    event: &'a str,
    found: Found<S::Item>,
    seen: HashSet<String>,
}

impl<S: Sink> Scan<'_, S> {
    fn line(&mut self, line: &str) {
        let names_event = line.contains(self.event);
        // Export lines are JSON objects; anything else only matters if it names the event.
        if !names_event && !line.trim_start().starts_with('{') {
            return;
        }
        match first_object(line) {
            Some(value) if value["event"] == self.event => self.failure_line(&value),
            Some(value) => {
                self.summary(&value);
                // An export's entry: the function's own text is in `message`.
                let message = value["data"]["message"]
                    .as_str()
                    .or(value["message"].as_str());
                match message {
                    Some(message) if message.contains(self.event) => {
                        for inner in message.lines() {
                            self.line(inner);
                        }
                    }
                    _ if names_event => self.found.unreadable += 1,
                    _ => {}
                }
            }
            None if names_event => self.found.unreadable += 1,
            None => {}
        }
    }

    /// `vercel logs --json` ends with `{"type":"summary","pagination":{"hasMore","next"}}`.
    fn summary(&mut self, value: &Value) {
        let pagination = &value["pagination"];
        if value["type"] == "summary" && pagination["hasMore"] == true {
            let next = pagination["next"].as_str().unwrap_or_default();
            self.found.more_pages = Some(next.to_string());
        }
    }

    fn failure_line(&mut self, line: &Value) {
        self.found.lines += 1;
        let items = match (&line["items"], &line["records"], &line["record"]) {
            (Value::Array(items), _, _) | (_, Value::Array(items), _) => items.iter().collect(),
            (_, _, item @ Value::Object(_)) => vec![item],
            _ => {
                self.found.unreadable += 1;
                return;
            }
        };
        for item in items {
            match S::Item::deserialize(item) {
                Ok(item) if self.seen.insert(S::label(&item)) => self.found.items.push(item),
                Ok(_) => self.found.duplicates += 1,
                Err(_) => self.found.invalid += 1,
            }
        }
    }
}

/// The JSON object that starts at the first `{` of `line`, ignoring whatever follows it.
fn first_object(line: &str) -> Option<Value> {
    let start = line.find('{')?;
    serde_json::Deserializer::from_str(&line[start..])
        .into_iter::<Value>()
        .next()?
        .ok()
}

#[cfg(test)]
mod tests;
