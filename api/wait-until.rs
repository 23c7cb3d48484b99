//! `/api/wait-until` (any method): answer at once, store the record after the response; with
//! `?await=1`, store it first and answer after, for comparison.

use http::StatusCode;
use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};
use wait_until::respond::{self, Receipt};
use wait_until::write_mode::WriteMode;
use wait_until::{App, RequestRecord};

pub async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    let mode = match WriteMode::from_query(req.uri().query()) {
        Ok(mode) => mode,
        Err(refusal) => return Ok(respond::error(StatusCode::BAD_REQUEST, refusal)),
    };
    let writer = App::global().writer();
    let storage = writer.sink().kind();
    let record = RequestRecord::of_request(&req);
    Ok(match mode {
        WriteMode::AfterResponse => {
            let receipt = Receipt::after_response(&record, storage);
            writer.submit(&req, &state, record);
            respond::json(StatusCode::OK, &receipt)
        }
        WriteMode::Awaited => {
            let id = record.id.clone();
            match writer.submit_awaited(&req, &state, record).await {
                Ok(stored) => respond::json(StatusCode::OK, &Receipt::stored(id, storage, &stored)),
                Err(failure) => respond::write_failed(&failure, &id),
            }
        }
    })
}
