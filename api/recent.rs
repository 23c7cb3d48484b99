//! `/api/recent` (GET, HEAD): the ten newest records, newest first, read with the read-only token.

use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(crate::APP.recent(&req).await)
}
