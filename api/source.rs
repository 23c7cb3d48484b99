//! `/api/source` (GET, HEAD): where the page links for the source and the deploy steps.

use vercel_runtime::{AppState, Error, Request, Response, ResponseBody};

pub async fn handler(req: Request, _state: AppState) -> Result<Response<ResponseBody>, Error> {
    Ok(crate::APP.source(&req))
}
