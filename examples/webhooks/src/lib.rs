//! Webhook delivery after the response: the second user of `after_response`.
//!
//! `POST /api/events` answers `202` at once and the event is delivered afterwards, inside the
//! request's `wait_until`: POSTed to `WEBHOOK_URL` as JSON with `Idempotency-Key: <event id>`.
//! Each event ends in exactly one line: a short success line, or a failure line (`event`
//! [`FAILED`]) holding the whole event, which the `webhooks-replay` binary reads back from
//! exported logs and delivers again.
//!
//! - [`Event`]: what is delivered; its id is the idempotency key.
//! - [`Webhook`]: the sink. A batch is one POST per event, sent together; if any fails, the
//!   batch fails and a retry sends every event of it again, so a receiver sees a key more than
//!   once and must act on it once (see the README).
//! - [`WEBHOOKS`]: the one writer of the instance, with [`config`].

mod event;
mod sink;

pub use event::{Event, MAX_BODY};
pub use sink::{DeliveryError, Webhook};

use after_response::{AfterResponse, Config, Failure, Retry};
use std::sync::LazyLock;
use std::time::Duration;

/// The `event` of this function's failure lines, which replay looks for.
pub const FAILED: &str = "webhooks.failed";

/// How long one attempt at a batch may take: its POSTs go out together, so this is the slowest
/// receiver answer we wait for. A receiver that answers later has its batch sent again.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// POSTs in flight to the receiver at once at most: the events of one batch.
pub const MAX_BATCH: usize = 10;

/// The writer's settings: its own failure event, the attempt timeout above, batches of at most
/// [`MAX_BATCH`]; the crate's defaults otherwise (4 attempts, backoff up to 1 s, 10 s in the
/// queue at most).
pub fn config() -> Config {
    Config {
        max_batch: MAX_BATCH,
        event: FAILED,
        retry: Retry {
            attempt_timeout: ATTEMPT_TIMEOUT,
            ..Retry::default()
        },
        ..Config::default()
    }
}

/// The writer of `sink` with [`config`].
pub fn writer(sink: Webhook) -> AfterResponse<Webhook> {
    // `config` is a constant with every bound above zero (a unit test holds it to that).
    AfterResponse::with_config(sink, config()).expect("the webhook config is valid")
}

/// The instance's one writer, delivering to `WEBHOOK_URL` (read once, on first use).
pub static WEBHOOKS: LazyLock<AfterResponse<Webhook>> =
    LazyLock::new(|| writer(Webhook::from_env()));

/// The HTTP status of an awaited delivery that failed: `502` when the receiver failed or was too
/// slow, `503` when this instance could not take the event (overloaded, shutting down).
pub fn status_of(failure: &Failure<DeliveryError>) -> u16 {
    match failure {
        Failure::Sink { .. } | Failure::TimedOut { .. } => 502,
        Failure::Overloaded(_) | Failure::Stopped => 503,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_accepted_and_names_its_own_event() {
        let writer = writer(Webhook::to(None));
        assert_eq!(writer.config().event, FAILED);
        assert_eq!(writer.config().retry.attempt_timeout, ATTEMPT_TIMEOUT);
        assert_eq!(writer.config().max_batch, MAX_BATCH);
    }

    #[test]
    fn every_event_settles_within_the_functions_max_duration() {
        let vercel: serde_json::Value =
            serde_json::from_str(include_str!("../vercel.json")).unwrap();
        let max = &vercel["builds"][0]["config"]["functions"]["api/main.rs"]["maxDuration"];
        let max = Duration::from_secs(max.as_u64().expect("a maxDuration in vercel.json"));
        // 10 s in the queue at most, then 4 attempts of 2 s with up to 0.7 s between them.
        assert_eq!(config().settle_bound(), Duration::from_millis(18_700));
        assert!(
            config().settle_bound() < max,
            "raise maxDuration in vercel.json"
        );
    }

    #[test]
    fn a_receiver_failure_is_a_bad_gateway_and_an_overload_unavailable() {
        let error = DeliveryError::refused("no");
        assert_eq!(status_of(&Failure::Sink { error, attempts: 1 }), 502);
        assert_eq!(status_of(&Failure::TimedOut { attempts: 4 }), 502);
        assert_eq!(status_of(&Failure::Overloaded("full".into())), 503);
        assert_eq!(status_of(&Failure::Stopped), 503);
    }
}
