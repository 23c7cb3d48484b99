//! `/api/recent` (GET, HEAD): the ten newest records, newest first, read with the read-only token.

use http::{Method, StatusCode};
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};
use wait_until::App;
use wait_until::respond::{self, RecentPage};

pub async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    if let Some(refusal) = respond::allow_only(&req, &[Method::GET, Method::HEAD]) {
        return Ok(refusal);
    }
    let store = App::global().store();
    Ok(match store.recent().await {
        Ok(recent) => respond::json(StatusCode::OK, &RecentPage::new(recent, store.kind())),
        Err(error) => respond::store_error(&error),
    })
}
