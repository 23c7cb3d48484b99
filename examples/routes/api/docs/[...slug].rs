//! `/api/docs/<one>/<or>/<more>`: a catch-all. `[...slug]` captures every remaining segment (at
//! least one; `[[...slug]]` would also match `/api/docs` itself), each percent-decoded.

use crate::respond::json;
use bundled_api::RouteParams;
use http::StatusCode;
use serde_json::json;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    let slug: &[String] = RouteParams::of(&req).get_all("slug");
    Ok(json(StatusCode::OK, json!({ "slug": slug })))
}
