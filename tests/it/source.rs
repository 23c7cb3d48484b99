//! `/api/source`: where the page links for the source and the deploy steps, in both modes. The
//! local answers come from the app in this process; production mode's from the real binary.

use crate::MAIN;
use crate::in_process::App;
use serde_json::{Value, json as value};
use testkit::{TEST_LIMIT, within};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// The links of `GET /api/source`: a `200` no cache may keep.
async fn links(app: &App) -> Value {
    let answer = app.get("/api/source").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    answer.json()
}

/// [`links`], from the real binary.
async fn links_from(app: &testkit::app::App) -> Value {
    let response = app.get("/api/source").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    testkit::app::json(response).await
}

#[tokio::test]
async fn with_nothing_set_there_are_no_links() {
    within(TEST_LIMIT, "no links", async {
        let app = App::new(&[]);
        assert_eq!(
            links(&app).await,
            value!({ "source": null, "deploySteps": null })
        );
        let post = app.request("POST", "/api/source", &[]).await;
        assert_eq!(post.status, 405);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
    })
    .await;
}

#[tokio::test]
async fn the_setting_gives_the_links_and_a_value_that_cannot_be_one_is_noted_at_start_up() {
    within(TEST_LIMIT, "links from the setting", async {
        let url = "https://example.com/acme/wait-until";
        let app = App::new(&[("WAIT_UNTIL_SOURCE_URL", url)]);
        assert_eq!(
            links(&app).await,
            value!({ "source": url, "deploySteps": format!("{url}#deploy") })
        );

        let hostile = "javascript:alert(document.cookie)";
        let app = App::new(&[("WAIT_UNTIL_SOURCE_URL", hostile)]);
        app.assert_printed("note: WAIT_UNTIL_SOURCE_URL must be an https URL");
        assert_eq!(
            links(&app).await,
            value!({ "source": null, "deploySteps": null })
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_production_a_git_deployment_links_its_repository_at_its_commit() {
    within(TEST_LIMIT, "links from Vercel's Git variables", async {
        let git = [
            ("VERCEL_GIT_PROVIDER", "github"),
            ("VERCEL_GIT_REPO_OWNER", "acme"),
            ("VERCEL_GIT_REPO_SLUG", "wait-until"),
            ("VERCEL_GIT_COMMIT_SHA", SHA),
        ];
        let (app, _ipc) = testkit::app::App::start_in_production(MAIN, &git).await;
        let source = format!("https://github.com/acme/wait-until/tree/{SHA}");
        assert_eq!(
            links_from(&app).await,
            value!({ "source": source, "deploySteps": format!("{source}#deploy") })
        );
    })
    .await;
}
