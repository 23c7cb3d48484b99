//! The sink: each event of a batch POSTed to the receiver, together.
//!
//! - One process-wide `reqwest` client (rustls with ring, no OpenSSL), made on first use:
//!   connect timeout 1 s, whole request [`ATTEMPT_TIMEOUT`](crate::ATTEMPT_TIMEOUT), no
//!   redirects (a moved receiver must fail loudly, not get events somewhere else).
//! - `2xx` is delivered. `408`, `429`, `5xx` and transport failures (cannot connect, no answer in
//!   time, the connection dropped) can be retried; any other answer is a refusal, final.
//! - A batch is one POST per event, all at once. If any fails, the batch fails (retryable only
//!   if every failure is) and a retry sends all of it again: the `Idempotency-Key` lets the
//!   receiver act on each event once.
//! - Errors say what happened in a few words; never the URL, nor the transport's own message
//!   (which names the URL).

use crate::Event;
use after_response::Sink;
use futures_util::future::join_all;
use reqwest::{StatusCode, Url};
use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Built once per process; `None` only if TLS cannot start, and then every delivery says so.
static HTTP: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| {
    // reqwest is built without a crypto provider; ring is ours. `Err` means one is already
    // installed, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(crate::ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()
});

/// Where events go: `WEBHOOK_URL`, or why there is none.
pub struct Webhook {
    target: Result<Url, &'static str>,
}

impl Webhook {
    /// The receiver named by `WEBHOOK_URL`.
    pub fn from_env() -> Webhook {
        Webhook::to(std::env::var("WEBHOOK_URL").ok().as_deref())
    }

    /// The receiver at `url`: an `http` or `https` URL. Anything else (nothing, blank, another
    /// scheme) is kept as a refusal: every delivery fails at once, not retried, so its events
    /// end in failure lines, to replay once the variable is set.
    pub fn to(url: Option<&str>) -> Webhook {
        let target = match url.map(str::trim).filter(|url| !url.is_empty()) {
            None => Err("set WEBHOOK_URL to the receiver's URL"),
            Some(url) => Url::parse(url)
                .ok()
                .filter(|url| matches!(url.scheme(), "http" | "https"))
                .ok_or("WEBHOOK_URL is not an http(s) URL"),
        };
        Webhook { target }
    }

    /// What the function says at start-up about where events go (never the URL itself).
    pub fn describe(&self) -> String {
        match &self.target {
            Ok(_) => "webhooks: delivering events to WEBHOOK_URL".into(),
            Err(why) => format!("webhooks: {why}; events end in failure lines until then"),
        }
    }
}

/// Why a delivery failed, without the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    message: String,
    retryable: bool,
}

impl DeliveryError {
    /// A failure that trying again cannot help.
    pub fn refused(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure that trying again may help.
    pub fn unavailable(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            message: message.into(),
            retryable: true,
        }
    }

    /// Whether trying again may help.
    pub fn retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Sink for Webhook {
    type Item = Event;
    type Error = DeliveryError;

    fn name(&self) -> &'static str {
        "webhooks"
    }

    fn label(event: &Event) -> String {
        event.id.clone()
    }

    fn can_retry(error: &DeliveryError) -> bool {
        error.retryable
    }

    async fn write(&self, batch: &[Event]) -> Result<(), DeliveryError> {
        let url = self
            .target
            .as_ref()
            .map_err(|why| DeliveryError::refused(*why))?;
        let client = HTTP
            .as_ref()
            .ok_or_else(|| DeliveryError::refused("the HTTP client could not start"))?;
        let outcomes = join_all(batch.iter().map(|event| deliver(client, url, event))).await;
        batch_outcome(batch.len(), outcomes)
    }
}

/// One POST: the event as JSON, its id as the `Idempotency-Key`.
async fn deliver(client: &reqwest::Client, url: &Url, event: &Event) -> Result<(), DeliveryError> {
    let body = serde_json::to_vec(event)
        .map_err(|_| DeliveryError::refused("the event could not be written as JSON"))?;
    let response = client
        .post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", &event.id)
        .body(body)
        .send()
        .await
        .map_err(|error| transport_error(&error))?;
    answer(response.status())
}

/// What an answer means.
fn answer(status: StatusCode) -> Result<(), DeliveryError> {
    let code = status.as_u16();
    if status.is_success() {
        Ok(())
    } else if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        Err(DeliveryError::unavailable(format!(
            "the receiver answered HTTP {code}"
        )))
    } else if status.is_redirection() {
        Err(DeliveryError::refused(format!(
            "the receiver answered HTTP {code}; redirects are not followed: set WEBHOOK_URL to where it points"
        )))
    } else {
        Err(DeliveryError::refused(format!(
            "the receiver refused the event: HTTP {code}"
        )))
    }
}

/// A failure before any answer, in words of our own (reqwest's own message names the URL).
fn transport_error(error: &reqwest::Error) -> DeliveryError {
    if error.is_builder() {
        DeliveryError::refused("the request could not be made (check WEBHOOK_URL)")
    } else if error.is_timeout() {
        DeliveryError::unavailable("the receiver did not answer in time")
    } else if error.is_connect() {
        DeliveryError::unavailable("could not connect to the receiver")
    } else {
        DeliveryError::unavailable("the connection to the receiver failed before it answered")
    }
}

/// A batch is written only if every event was; else its first failure, retryable only if every
/// failure is.
fn batch_outcome(
    size: usize,
    outcomes: Vec<Result<(), DeliveryError>>,
) -> Result<(), DeliveryError> {
    let failed: Vec<DeliveryError> = outcomes.into_iter().filter_map(Result::err).collect();
    let Some(first) = failed.first() else {
        return Ok(());
    };
    let message = match (failed.len(), size) {
        (1, 1) => first.message.clone(),
        (n, size) => format!("{n} of {size} deliveries failed; the first: {first}"),
    };
    Err(DeliveryError {
        message,
        retryable: failed.iter().all(DeliveryError::retryable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Result<(), DeliveryError> {
        answer(StatusCode::from_u16(code).unwrap())
    }

    #[test]
    fn two_hundreds_deliver_and_only_timeouts_throttling_and_5xx_are_retried() {
        for code in [200, 201, 202, 204, 299] {
            assert_eq!(status(code), Ok(()), "{code}");
        }
        for code in [408, 429, 500, 502, 503, 504, 599] {
            let error = status(code).unwrap_err();
            assert!(error.retryable(), "{code}");
            assert_eq!(
                error.to_string(),
                format!("the receiver answered HTTP {code}")
            );
        }
        for code in [301, 302, 307, 400, 401, 403, 404, 409, 410, 413, 422] {
            assert!(!status(code).unwrap_err().retryable(), "{code}");
        }
    }

    #[test]
    fn a_batch_fails_if_any_event_does_and_is_retried_only_if_every_failure_may_pass() {
        let (ok, busy, no) = (
            Ok(()),
            Err(DeliveryError::unavailable("busy")),
            Err(DeliveryError::refused("no")),
        );
        assert_eq!(batch_outcome(2, vec![ok.clone(), ok.clone()]), Ok(()));
        let one = batch_outcome(1, vec![busy.clone()]).unwrap_err();
        assert_eq!((one.to_string().as_str(), one.retryable()), ("busy", true));
        let some = batch_outcome(3, vec![ok.clone(), busy.clone(), busy.clone()]).unwrap_err();
        assert_eq!(
            some.to_string(),
            "2 of 3 deliveries failed; the first: busy"
        );
        assert!(some.retryable());
        let mixed = batch_outcome(3, vec![busy, ok, no]).unwrap_err();
        assert!(!mixed.retryable(), "{mixed}");
    }

    #[test]
    fn no_usable_url_is_a_refusal_that_never_names_the_value() {
        for url in [
            None,
            Some(""),
            Some("  "),
            Some("ftp://user:secret@host/x"),
            Some("nope"),
        ] {
            let sink = Webhook::to(url);
            let why = sink.target.as_ref().unwrap_err();
            assert!(why.contains("WEBHOOK_URL"), "{why}");
            assert!(!why.contains("secret") && !sink.describe().contains("secret"));
        }
        assert!(Webhook::to(Some("https://example.com/hook")).target.is_ok());
        assert!(
            Webhook::to(Some(" http://127.0.0.1:9/hook "))
                .target
                .is_ok()
        );
    }

    #[tokio::test]
    async fn without_a_url_a_batch_fails_at_once_and_for_good() {
        let error = Webhook::to(None)
            .write(&[Event::new("x".into())])
            .await
            .unwrap_err();
        assert!(!error.retryable());
        assert_eq!(error.to_string(), "set WEBHOOK_URL to the receiver's URL");
    }
}
