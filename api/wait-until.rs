//! `/api/wait-until` (any method): answer at once, store the record after the response.

use http::StatusCode;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};
use wait_until::respond::{self, Receipt};
use wait_until::{App, RequestRecord, background};

pub async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    let app = App::global();
    let record = RequestRecord::of_request(&req);
    let receipt = Receipt::new(&record, app.store().kind());
    background::store_after_response(app, &req, &state, record);
    Ok(respond::json(StatusCode::OK, &receipt))
}
