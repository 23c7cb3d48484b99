//! The function: `POST /api/events` takes an event and delivers it to `WEBHOOK_URL` after the
//! response.
//!
//! - `202 {"id"}` at once; the delivery runs inside the request's `wait_until` and leaves one
//!   line: a success line, or a failure line holding the event, for `webhooks-replay`.
//! - `?await=1`: delivered before the response: `200 {"id"}`, or `502`/`503` `{"id","error"}`.
//! - A body over 16 KiB is refused with `413`, one that is not UTF-8 with `400`, another method
//!   with `405`, another path with `404`; every answer is JSON and `no-store`.
//!
//! Run with `WEBHOOK_URL=… cargo run -p webhooks-example` (http://127.0.0.1:3000, or
//! `VERCEL_DEV_PORT`).

use http::header::{ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody, run, service_fn};
use webhooks_example::{Event, MAX_BODY, WEBHOOKS, status_of};

async fn handler(mut req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    if req.uri().path() != "/api/events" {
        return reply(StatusCode::NOT_FOUND, json!({ "error": "not found" }));
    }
    if req.method() != Method::POST {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "error": "use POST" }),
        )?;
        response.headers_mut().insert(ALLOW, "POST".parse()?);
        return Ok(response);
    }
    let Some(awaited) = awaited(req.uri().query()) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({ "error": "await is 1 or 0" }),
        );
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err((status, error)) => return reply(status, json!({ "error": error })),
    };
    let event = Event::new(body);
    let id = event.id.clone();
    if !awaited {
        WEBHOOKS.submit(&req, &state, event);
        return reply(StatusCode::ACCEPTED, json!({ "id": id }));
    }
    match WEBHOOKS.submit_awaited(&req, &state, event).await {
        Ok(_) => reply(StatusCode::OK, json!({ "id": id })),
        Err(failure) => reply(
            StatusCode::from_u16(status_of(&failure))?,
            json!({ "id": id, "error": failure.to_string() }),
        ),
    }
}

/// `?await=1` (or `true`): deliver before answering; absent, `0` or `false`: after. `None` for
/// anything else.
fn awaited(query: Option<&str>) -> Option<bool> {
    let value = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("await="));
    match value {
        None | Some("0" | "false") => Some(false),
        Some("1" | "true") => Some(true),
        Some(_) => None,
    }
}

/// The body as text, at most [`MAX_BODY`] bytes. Read through `body_mut`, so that `req` stays
/// whole: `submit` takes the request, for the ids that attribute its lines on Vercel.
async fn read_body(req: &mut Request) -> Result<String, (StatusCode, &'static str)> {
    const TOO_LARGE: (StatusCode, &str) = (
        StatusCode::PAYLOAD_TOO_LARGE,
        "the body is larger than 16 KiB",
    );
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(TOO_LARGE);
    }
    let bytes = match Limited::new(req.body_mut(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => return Err(TOO_LARGE),
        Err(_) => {
            return Err((StatusCode::BAD_REQUEST, "the body could not be read"));
        }
    };
    String::from_utf8(bytes.to_vec())
        .map_err(|_| (StatusCode::BAD_REQUEST, "the body is not UTF-8 text"))
}

fn reply(status: StatusCode, body: Value) -> Result<Response<ResponseBody>, Error> {
    Ok(Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .header(CACHE_CONTROL, "no-store")
        .body(ResponseBody::from(body.to_string()))?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    println!("{}", WEBHOOKS.sink().describe());
    run(service_fn(handler)).await
}
