//! SIGTERM with 200 writes pending (the Upstash test double holds storage until the signal has
//! been sent): the process drains them all before it exits. Counted at the storage side, per
//! record (writes may be batched into `LPUSH key r1 … rN`), each exactly once; and the app
//! printed a success line for each before it exited, so it also waited for storage's answers.

use crate::{behind_the_double, busy_cores};
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::{HEAVY_TEST_LIMIT, within};

const FIRES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_right_after_200_fires_still_stores_all_200() {
    let _alone = busy_cores().await;
    within(HEAVY_TEST_LIMIT, "200 held writes drained", async {
        let (redis, fake, app) = behind_the_double(&[]).await;
        let held = fake.hold();
        let app = Arc::new(app);

        let fires: Vec<_> = (0..FIRES)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { app.fire().await })
            })
            .collect();
        let mut fired = Vec::new();
        for fire in fires {
            fired.push(fire.await.expect("a fire answered 200"));
        }
        let mut app = Arc::into_inner(app).expect("no fire still holds the app");

        // The drain has all the work to do: the first write waits in storage, the rest behind it.
        fake.wait_for_calls(1, Duration::from_secs(5)).await;
        assert_eq!(app.stored_ids(), Vec::<String>::new(), "stored while held");

        // SIGTERM: the process must not exit while storage holds its writes; released, it drains
        // them, then exits, with every line the process printed read.
        let signalled = Instant::now();
        let status = app.sigterm_while_held(held, || {}).await;
        let drained_in = signalled.elapsed();
        assert!(status.success(), "{status:?}");

        // Counted at the storage side: every fired record arrived, none twice, none unknown.
        let mut received: Vec<String> = fake.seen().iter().flat_map(|s| s.pushed_ids()).collect();
        let mut stored = app.stored_ids();
        received.sort();
        fired.sort();
        stored.sort();
        assert_eq!(received.len(), FIRES, "records received by storage");
        assert_eq!(received, fired, "every fired record reached storage");
        // And the app saw storage accept every one of them before it exited.
        assert_eq!(stored, fired, "a success line for every fired record");
        let stderr = app.stderr();
        assert!(stderr.is_empty(), "{stderr:#?}");
        assert_eq!(redis.llen(), 10);
        println!(
            "{FIRES} records in {} storage calls; drained and exited {drained_in:.2?} after SIGTERM",
            fake.seen().len()
        );
    })
    .await;
}
