//! SIGTERM with 200 writes pending (the Upstash test double holds storage until the signal has
//! been sent): the process drains them all before it exits. Counted per record by the app's
//! success lines, each exactly once, printed before it exited, so it waited for storage's
//! answers; and at the storage side, where a write carries only its batch's ten newest records
//! (the others could never be kept): no record written twice or unknown, and the sorted set
//! holding the ten newest of the 200.

use crate::{behind_the_double, busy_cores};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::{HEAVY_TEST_LIMIT, within};
use wait_until::store::KEEP;

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

        // Every fired record settled as stored, each once, and the app saw storage accept it
        // before it exited.
        let mut stored = app.stored_ids();
        fired.sort();
        stored.sort();
        assert_eq!(stored, fired, "a success line for every fired record");
        let stderr = app.stderr();
        assert!(stderr.is_empty(), "{stderr:#?}");

        // At the storage side: each attempt is one write, carrying at most ten records, none
        // unknown, none twice.
        let calls: Vec<Vec<String>> = fake
            .seen()
            .iter()
            .filter(|s| s.is_write())
            .map(|s| s.written_ids())
            .collect();
        assert!(
            calls.iter().all(|call| !call.is_empty() && call.len() <= KEEP),
            "{calls:?}"
        );
        let received: Vec<&String> = calls.iter().flatten().collect();
        let distinct: BTreeSet<&String> = received.iter().copied().collect();
        assert_eq!(distinct.len(), received.len(), "a record written twice");
        assert!(
            received.iter().all(|id| fired.binary_search(id).is_ok()),
            "a record that was never fired reached storage"
        );
        // The set: the ten newest (greatest ids) of the 200, newest first.
        let newest_first: Vec<String> = fired.iter().rev().take(KEEP).cloned().collect();
        let listed: Vec<String> = redis
            .entries()
            .iter()
            .map(|entry| {
                let record: serde_json::Value = serde_json::from_str(entry).expect("a record");
                record["id"].as_str().expect("an id").to_string()
            })
            .collect();
        assert_eq!(listed, newest_first);
        println!(
            "{FIRES} records in {} storage calls; drained and exited {drained_in:.2?} after SIGTERM",
            fake.seen().len()
        );
    })
    .await;
}
