//! What is delivered: an event as the function received it.

use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// The largest body an event carries, in bytes.
pub const MAX_BODY: usize = 16 * 1024;

/// One received event. Its JSON is what the receiver gets, and what a failure line holds.
///
/// Read back (replay) only if it is one this function could have made: a canonical v7 id (so
/// the idempotency key is the one first sent) and a body within [`MAX_BODY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Unchecked")]
pub struct Event {
    /// Unique and time-ordered (a v7 UUID, lowercase): the `Idempotency-Key`.
    pub id: String,
    /// When the function received it, in milliseconds since the Unix epoch.
    pub received_at_ms: u64,
    /// The request's body, as sent.
    pub body: String,
}

impl Event {
    /// A new event for `body`, received now.
    pub fn new(body: String) -> Event {
        let received_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        Event {
            id: Uuid::now_v7().to_string(),
            received_at_ms,
            body,
        }
    }
}

#[derive(Deserialize)]
struct Unchecked {
    id: String,
    received_at_ms: u64,
    body: String,
}

impl TryFrom<Unchecked> for Event {
    type Error = &'static str;

    fn try_from(event: Unchecked) -> Result<Event, &'static str> {
        let canonical = Uuid::try_parse(&event.id)
            .is_ok_and(|id| id.get_version_num() == 7 && id.to_string() == event.id);
        if !canonical {
            return Err("an event id is a lowercase v7 UUID");
        }
        if event.body.len() > MAX_BODY {
            return Err("an event body is at most 16 KiB");
        }
        Ok(Event {
            id: event.id,
            received_at_ms: event.received_at_ms,
            body: event.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_back_as_itself() {
        let event = Event::new("{\"kind\":\"signup\"}\n".into());
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    }

    #[test]
    fn ids_are_unique_and_time_ordered() {
        let (a, b) = (Event::new(String::new()), Event::new(String::new()));
        assert!(a.id < b.id, "{} then {}", a.id, b.id);
    }

    #[test]
    fn an_event_this_function_could_not_have_made_is_refused() {
        let good = Event::new("x".into());
        let with = |id: &str, body: &str| {
            let json = serde_json::json!({ "id": id, "received_at_ms": 1, "body": body });
            serde_json::from_value::<Event>(json)
        };
        assert!(with(&good.id, "x").is_ok());
        assert!(with(&good.id.to_uppercase(), "x").is_err());
        assert!(with("not-an-id", "x").is_err());
        assert!(with(&Uuid::nil().to_string(), "x").is_err());
        assert!(with(&good.id, &"x".repeat(MAX_BODY + 1)).is_err());
        assert!(serde_json::from_str::<Event>(r#"{"id":"x"}"#).is_err());
    }
}
