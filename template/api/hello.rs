//! `/api/hello`: answers at once, then records the visit after the response through
//! `after_response`: batched with other requests' visits, retried within bounds, and ending in
//! one line in this request's own log (a failure line holds the whole visit, to replay).

use after_response::{AfterResponse, Sink};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

/// What is written after the response.
#[derive(Debug, Serialize, Deserialize)]
pub struct Visit {
    /// Time-ordered and unique across instances: a write that comes again is recognised by it.
    pub id: String,
    pub path: String,
}

/// Where visits go. Put your storage here (a database, a queue, an API): one call per batch. A
/// batch may come again (a retry after a lost answer, a replay), so write it idempotently,
/// keyed by `id`. This one prints each visit.
pub struct Visits;

impl Sink for Visits {
    type Item = Visit;
    type Error = String;

    fn name(&self) -> &'static str {
        "visits"
    }

    fn label(visit: &Visit) -> String {
        visit.id.clone()
    }

    /// Whether another attempt can help: yes for a timeout or a 503 of your storage, no for a
    /// refusal. Printing cannot fail for a reason a retry would fix.
    fn can_retry(_: &String) -> bool {
        false
    }

    async fn write(&self, batch: &[Visit]) -> Result<(), String> {
        for visit in batch {
            println!("visit {} {}", visit.id, visit.path);
        }
        Ok(())
    }
}

/// One writer per instance, made on first use.
static VISITS: LazyLock<AfterResponse<Visits>> = LazyLock::new(|| AfterResponse::new(Visits));

pub async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    let visit = Visit {
        id: uuid::Uuid::now_v7().to_string(),
        path: req.uri().path().to_owned(),
    };
    let body = serde_json::json!({ "message": "hello", "visit": visit.id });
    // Returns at once: the visit is written after the response, inside `state.wait_until`.
    VISITS.submit(&req, &state, visit);
    Ok(Response::builder()
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(ResponseBody::from(body.to_string()))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vercel_runtime::LogContext;

    #[tokio::test]
    async fn a_visit_reaches_the_sink_in_one_attempt() {
        let state = AppState::new(LogContext::new(None, None, None));
        let visit = Visit {
            id: "0190a000-0000-7000-8000-000000000000".to_owned(),
            path: "/api/hello".to_owned(),
        };
        let request = http::Request::new(());
        let written = VISITS.submit_awaited(&request, &state, visit).await;
        assert_eq!(written.map(|written| written.attempts), Ok(1));
    }
}
