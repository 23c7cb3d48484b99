//! Serving HTTP/1 for the test doubles ([`crate::fake_upstash`], [`crate::fault_proxy`]): one
//! accept loop, each connection on its own task, every request answered by the double's
//! handler with the double's shared state.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::Incoming;
use hyper::{Request, Response, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A double's answer: a response, or an error that makes hyper drop the connection unanswered.
pub(crate) type Answer = Result<Response<BoxBody<Bytes, std::io::Error>>, std::io::Error>;

/// Serves `listener` on the current runtime until the returned task is aborted.
pub(crate) fn serve<S, H, A>(listener: TcpListener, shared: Arc<S>, handle: H) -> JoinHandle<()>
where
    S: Send + Sync + 'static,
    H: Fn(Arc<S>, Request<Incoming>) -> A + Copy + Send + Sync + 'static,
    A: Future<Output = Answer> + Send + 'static,
{
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let shared = shared.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(shared.clone(), req));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}
