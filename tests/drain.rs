//! SIGTERM with 200 writes pending behind slow storage: the process drains them all before it
//! exits, counted at the storage side (the fault double delays every call by 300 ms).

mod support;

use std::sync::Arc;
use std::time::Duration;
use support::app::App;
use support::fake_upstash::FakeUpstash;
use support::redis::Redis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_right_after_200_fires_still_stores_all_200() {
    let redis = Redis::start();
    let fake = FakeUpstash::start(&redis).await;
    fake.delay(Duration::from_millis(300));
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = Arc::new(App::start(&env).await);

    let fires: Vec<_> = (0..200)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.fire().await })
        })
        .collect();
    let mut fired = Vec::new();
    for fire in fires {
        fired.push(fire.await.unwrap());
    }
    let app = Arc::into_inner(app).expect("no fire still holds the app");
    let status = app.terminate().await;
    assert!(status.success(), "{status:?}");

    // Count records, not calls: writes are coalesced into `LPUSH key r1 … rN`.
    let mut received: Vec<String> = fake
        .seen()
        .iter()
        .filter(|s| s.path == "/pipeline" && s.body[0][0] == "LPUSH")
        .flat_map(|s| s.body[0].as_array().unwrap()[2..].to_vec())
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r.as_str().unwrap()).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    received.sort();
    fired.sort();
    assert_eq!(
        received, fired,
        "every fired record reached storage before exit"
    );
    assert_eq!(redis.llen(), 10);
}
