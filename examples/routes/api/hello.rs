//! `/api/hello`: a static route. The file's path under `api/` is the route's path.

use crate::respond::json;
use http::StatusCode;
use serde_json::json;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(_req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(json(StatusCode::OK, json!({ "message": "hello" })))
}
