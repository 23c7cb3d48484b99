//! `/api/source` (GET, HEAD): where the page links for the source and the deploy steps.

use http::{Method, StatusCode};
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};
use wait_until::App;
use wait_until::respond;

pub async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    if let Some(refusal) = respond::allow_only(&req, &[Method::GET, Method::HEAD]) {
        return Ok(refusal);
    }
    Ok(respond::json(StatusCode::OK, App::global().source()))
}
