//! `/api/wait-until` (any method): answer at once, store the record after the response; with
//! `?await=1`, store it first and answer after, for comparison.

use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(req: Request, state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(crate::APP.wait_until(&req, &state).await)
}
