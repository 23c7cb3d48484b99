//! The real `main` binary as `vercel dev` runs it: `VERCEL_DEV=1`, in the project's folder, a
//! new process for every request, several at once. With nothing configured, records must
//! outlive each process. (`cargo xtask test` also runs the pinned CLI itself on the project:
//! `tests/js/vercel-dev.test.mjs`.)

use crate::{MAIN, ten_newest};
use testkit::app::{App, json};
use testkit::{TEST_LIMIT, TempDir, within};

/// The function as `vercel dev` starts it, in `project`.
async fn start_in(project: &TempDir) -> App {
    let folder = project.path().to_path_buf();
    App::start_in(MAIN, &[("VERCEL_DEV", "1")], move |_, command| {
        command.current_dir(folder);
    })
    .await
}

#[tokio::test]
async fn a_record_outlives_the_process_that_wrote_it() {
    within(TEST_LIMIT, "a record read by the next process", async {
        let project = TempDir::new("vercel-dev");
        let mut first = start_in(&project).await;
        first.assert_printed("storage: file (no Upstash settings, and vercel dev");
        let receipt = json(first.get("/api/wait-until").await).await;
        assert_eq!(receipt["storage"], "file");
        // As `vercel dev` does once the response is sent: the write finishes before exit.
        first.sigterm();
        assert!(first.wait_exit(TEST_LIMIT).await.success());

        let next = start_in(&project).await;
        let (status, recent) = next.recent().await;
        assert_eq!(status, 200, "{recent}");
        assert_eq!(recent["storage"], "file");
        assert_eq!(recent["requests"][0]["id"], receipt["id"]);
        assert!(
            project
                .path()
                .join(".vercel/dev/requests-newest.json")
                .is_file(),
            "kept inside the project's .vercel folder, which git ignores"
        );
    })
    .await;
}

#[tokio::test]
async fn processes_writing_at_once_keep_the_ten_newest_each_once() {
    within(TEST_LIMIT, "four processes, twenty records", async {
        let project = TempDir::new("vercel-dev");
        let mut processes = Vec::new();
        for _ in 0..4 {
            processes.push(start_in(&project).await);
        }
        // Five awaited fires at each, all at once: each answers once its record is stored.
        let mut fires = tokio::task::JoinSet::new();
        for app in &processes {
            for _ in 0..5 {
                let (http, url) = (app.http.clone(), app.url("/api/wait-until?await=1"));
                fires.spawn(async move { json(http.get(url).send().await.unwrap()).await });
            }
        }
        let mut ids = Vec::new();
        for receipt in fires.join_all().await {
            assert_eq!(receipt["attempts"], 1, "{receipt}");
            ids.push(receipt["id"].as_str().unwrap().to_owned());
        }
        for app in &processes {
            assert_eq!(app.recent_ids().await, ten_newest(&ids));
        }
    })
    .await;
}
