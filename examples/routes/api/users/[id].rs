//! `/api/users/<id>`: a dynamic segment. `[id]` in the file name captures one path segment,
//! percent-decoded; the handler reads it from the request's `RouteParams`.

use crate::respond::json;
use bundled_api::RouteParams;
use http::StatusCode;
use serde_json::json;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

const USERS: &[(u64, &str)] = &[(1, "Ada"), (2, "Grace")];

pub async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    let id = RouteParams::of(&req).get("id").unwrap_or_default();
    // The capture is whatever the client put in the path: check it before using it. Digits
    // only (`parse` alone would also take `+1`).
    let id = match id.parse::<u64>() {
        Ok(number) if id.bytes().all(|b| b.is_ascii_digit()) => number,
        _ => {
            let error = json!({ "error": "the id must be digits" });
            return Ok(json(StatusCode::BAD_REQUEST, error));
        }
    };
    Ok(match USERS.iter().find(|(known, _)| *known == id) {
        Some((id, name)) => json(StatusCode::OK, json!({ "id": id, "name": name })),
        None => json(StatusCode::NOT_FOUND, json!({ "error": "no such user" })),
    })
}
