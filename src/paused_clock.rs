//! What the library's tests on tokio's paused clock share.

use std::future::Future;
use std::time::Duration;

/// A test's deadline, in the paused clock's time: whenever every task waits, the clock jumps
/// ahead, so work that never settles fails the test by name in moments instead of hanging the
/// suite. (Work that spins without waiting never lets the clock move: stop that by count.)
pub(crate) async fn within<T>(what: &str, test: impl Future<Output = T>) -> T {
    testkit::within(Duration::from_secs(600), what, test).await
}
