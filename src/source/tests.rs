use super::*;
use crate::config::tests::from_table;

fn links(vars: &[(&str, &str)]) -> (SourceLinks, Option<String>) {
    SourceLinks::from_config(&from_table(vars))
}

fn linked(source: &str, deploy_steps: &str) -> SourceLinks {
    SourceLinks {
        source: Some(source.into()),
        deploy_steps: Some(deploy_steps.into()),
    }
}

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn git(provider: &str, owner: &str, slug: &str, commit: &str) -> Vec<(&'static str, String)> {
    [
        ("VERCEL_GIT_PROVIDER", provider),
        ("VERCEL_GIT_REPO_OWNER", owner),
        ("VERCEL_GIT_REPO_SLUG", slug),
        ("VERCEL_GIT_COMMIT_SHA", commit),
    ]
    .into_iter()
    .map(|(name, value)| (name, value.to_owned()))
    .collect()
}

fn from_git_vars(vars: &[(&'static str, String)]) -> (SourceLinks, Option<String>) {
    let table: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
    links(&table)
}

#[test]
fn nothing_set_means_no_links_and_no_note() {
    assert_eq!(links(&[]), (SourceLinks::default(), None));
}

#[test]
fn the_source_url_setting_links_its_page_and_the_deploy_heading() {
    let (links, note) = links(&[(
        "WAIT_UNTIL_SOURCE_URL",
        "https://example.com/acme/wait-until#readme",
    )]);
    assert_eq!(
        links,
        linked(
            "https://example.com/acme/wait-until",
            "https://example.com/acme/wait-until#deploy"
        )
    );
    assert_eq!(note, None);
}

#[test]
fn the_source_url_setting_wins_over_git_variables() {
    let mut vars = git("github", "acme", "api", SHA);
    vars.push(("WAIT_UNTIL_SOURCE_URL", "https://example.com/fork".into()));
    let (links, _) = from_git_vars(&vars);
    assert_eq!(links.source.as_deref(), Some("https://example.com/fork"));
}

#[test]
fn anything_but_an_https_url_without_credentials_or_query_links_nowhere_never_echoed() {
    let base = "https://example.com/";
    let long = format!("{base}{}", "a".repeat(MAX_URL_BYTES + 1 - base.len()));
    for (hostile, why) in [
        ("javascript:alert(1)", "not an https URL"),
        ("JAVASCRIPT:alert(1)", "not an https URL"),
        ("data:text/html,<script>", "not an https URL"),
        ("http://example.com/acme", "not an https URL"),
        ("x-oauth:secret", "not an https URL"),
        (
            "https://token:x-oauth@example.com/acme",
            "a user name or password",
        ),
        (
            "https://x-oauth@example.com/acme",
            "a user name or password",
        ),
        (
            "http://x-oauth:@example.com/acme",
            "a user name or password",
        ),
        ("https://example.com/acme?token=x-oauth", "a query"),
        ("https://example.com/acme?", "a query"),
        ("https://x-oauth:1@exa mple.com/acme", "not a URL"),
        ("x-oauth", "not a URL"),
        ("example.com/acme", "not a URL"),
        ("/relative", "not a URL"),
        ("https://", "not a URL"),
        (&long, "over 2048 bytes"),
    ] {
        let (links, note) = links(&[("WAIT_UNTIL_SOURCE_URL", hostile)]);
        assert_eq!(links, SourceLinks::default(), "{hostile}");
        let note = note.unwrap_or_default();
        assert!(
            note.starts_with("WAIT_UNTIL_SOURCE_URL must be an https URL") && note.contains(why),
            "{hostile}: {note}"
        );
        assert!(
            !note.contains("x-oauth"),
            "a credential reached a note: {note}"
        );
    }
}

#[test]
fn a_url_of_exactly_the_longest_length_is_linked() {
    let base = "https://example.com/";
    let longest = format!("{base}{}", "a".repeat(MAX_URL_BYTES - base.len()));
    let (links, note) = links(&[("WAIT_UNTIL_SOURCE_URL", &longest)]);
    assert_eq!(links.source.as_deref(), Some(longest.as_str()));
    assert_eq!(note, None);
}

#[test]
fn a_git_deployment_links_the_repository_at_its_commit_on_each_host() {
    for (provider, owner, source, deploy) in [
        (
            "github",
            "acme",
            format!("https://github.com/acme/api/tree/{SHA}"),
            "#deploy",
        ),
        (
            "gitlab",
            "acme/backend",
            format!("https://gitlab.com/acme/backend/api/-/tree/{SHA}"),
            "#deploy",
        ),
        (
            "bitbucket",
            "acme",
            format!("https://bitbucket.org/acme/api/src/{SHA}"),
            "#markdown-header-deploy",
        ),
    ] {
        let (links, note) = from_git_vars(&git(provider, owner, "api", SHA));
        assert_eq!(links, linked(&source, &format!("{source}{deploy}")));
        assert_eq!(note, None);
    }
}

#[test]
fn without_a_readable_commit_the_repository_itself_is_linked() {
    for commit in ["", "main", "abc", &"a".repeat(65), "0123456789abcdeg"] {
        let (links, _) = from_git_vars(&git("github", "acme", "api", commit));
        assert_eq!(
            links,
            linked(
                "https://github.com/acme/api",
                "https://github.com/acme/api#deploy"
            ),
            "{commit:?}"
        );
    }
}

#[test]
fn git_variables_that_name_no_linkable_repository_link_nowhere_and_say_so() {
    for (vars, why) in [
        (git("azure", "acme", "api", SHA), "provider `azure`"),
        (git("github", "", "api", SHA), "no owner"),
        (git("github", "acme", "", SHA), "no owner"),
        (git("github", "acme/team", "api", SHA), "characters"),
        (git("gitlab", "acme", "a/b", SHA), "characters"),
        (git("github", "..", "api", SHA), "characters"),
        (git("gitlab", "acme//x", "api", SHA), "characters"),
        (git("github", "acme", "api?x=1", SHA), "characters"),
        (git("github", "acme", "api#x", SHA), "characters"),
        (git("github", "ac me", "api", SHA), "characters"),
    ] {
        let (links, note) = from_git_vars(&vars);
        assert_eq!(links, SourceLinks::default(), "{vars:?}");
        let note = note.unwrap_or_default();
        assert!(
            note.contains(why) && note.contains("WAIT_UNTIL_SOURCE_URL"),
            "{note}"
        );
    }
}

#[test]
fn the_deploy_anchor_is_a_heading_of_the_readme() {
    let readme = include_str!("../../README.md");
    assert!(
        readme.lines().any(|line| line == "## Deploy"),
        "README.md has no `## Deploy` heading: the deploy link's anchor `deploy` points nowhere"
    );
}
