//! Where the page links for this project's source and for its deploy steps.
//!
//! From `WAIT_UNTIL_SOURCE_URL` when it is set (any `https` URL: your repository, a fork, a
//! mirror), else from Vercel's Git variables on a deployment built from a repository (that
//! repository at the very commit deployed), else none: the page then names the README instead.
//!
//! Only an `https` URL with a host, no credentials and no query is ever handed out: the page makes it a
//! link, and neither a `javascript:` URL nor one holding a token may become one.

use crate::config::Config;
use crate::record::shown;
use reqwest::Url;
use serde::Serialize;

/// Longer values are not a repository's address.
const MAX_URL_BYTES: usize = 2048;

/// What `/api/source` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceLinks {
    /// The source, where its README is shown.
    pub source: Option<String>,
    /// The README's "Deploy" section.
    pub deploy_steps: Option<String>,
}

impl SourceLinks {
    /// The links `config` gives, and a note when a value was set but cannot be linked to.
    pub fn from_config(config: &Config) -> (Self, Option<String>) {
        if let Some(written) = &config.source_url {
            return match https_url(written) {
                // GitHub and GitLab name a README heading's anchor after its text.
                Ok(url) => (Self::at(url, "deploy"), None),
                Err(why) => (
                    Self::default(),
                    Some(format!(
                        "WAIT_UNTIL_SOURCE_URL must be an https URL without credentials or \
                         query, but {why}: the page links to no source"
                    )),
                ),
            };
        }
        match from_git(&config.git) {
            Ok(Some((url, anchor))) => (Self::at(url, anchor), None),
            Ok(None) => (Self::default(), None),
            Err(note) => (Self::default(), Some(note)),
        }
    }

    fn at(mut url: Url, deploy_anchor: &str) -> Self {
        url.set_fragment(None);
        let source = url.to_string();
        url.set_fragment(Some(deploy_anchor));
        Self {
            source: Some(source),
            deploy_steps: Some(url.to_string()),
        }
    }
}

/// `written` as a URL the page may link to (`https`, a host, no user name, password or query),
/// or why not, in words that never repeat any of the value: a pasted token, or a URL with one
/// in it, must not reach the logs.
fn https_url(written: &str) -> Result<Url, &'static str> {
    if written.len() > MAX_URL_BYTES {
        return Err("it is over 2048 bytes long");
    }
    let url = Url::parse(written).map_err(|_| "it is not a URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("it holds a user name or password");
    }
    // A query is where access tokens ride; a repository's page needs none.
    if url.query().is_some() {
        return Err("it has a query (`?…`)");
    }
    if url.scheme() != "https" {
        return Err("it is not an https URL");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host");
    }
    Ok(url)
}

/// The repository at the deployed commit, and the anchor its host gives the README's `Deploy`
/// heading; `Ok(None)` when this is not a Git deployment (no `VERCEL_GIT_PROVIDER`).
fn from_git(git: &[Option<String>; 4]) -> Result<Option<(Url, &'static str)>, String> {
    let [provider, owner, slug, commit] = git.each_ref().map(Option::as_deref);
    let Some(provider) = provider else {
        return Ok(None);
    };
    let cannot = |why: &str| {
        format!(
            "VERCEL_GIT_* describe a repository the page cannot link to ({why}): set \
             WAIT_UNTIL_SOURCE_URL"
        )
    };
    // (host, path before the commit, the README heading's anchor there)
    let (host, tree, anchor) = match provider {
        "github" => ("github.com", "tree", "deploy"),
        "gitlab" => ("gitlab.com", "-/tree", "deploy"),
        "bitbucket" => ("bitbucket.org", "src", "markdown-header-deploy"),
        other => return Err(cannot(&format!("provider `{}`", shown(other)))),
    };
    let (Some(owner), Some(slug)) = (owner, slug) else {
        return Err(cannot("no owner or repository name"));
    };
    // GitLab groups nest (`group/subgroup`); every other part is one path segment.
    if !is_path(owner, provider == "gitlab") || !is_path(slug, false) {
        return Err(cannot(
            "an owner or repository name with characters a name never has",
        ));
    }
    let mut url = format!("https://{host}/{owner}/{slug}");
    // Without a commit (or with one we cannot read), the repository's default branch.
    if let Some(commit) = commit.filter(|sha| is_commit(sha)) {
        url = format!("{url}/{tree}/{commit}");
    }
    Ok(Url::parse(&url).ok().map(|url| (url, anchor)))
}

/// Segments of letters, digits, `-`, `_` and `.`, none of them `.` or `..`; `/` between
/// segments only when `nested`.
fn is_path(name: &str, nested: bool) -> bool {
    let is_segment = |segment: &str| {
        !matches!(segment, "" | "." | "..")
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    (nested || !name.contains('/')) && name.split('/').all(is_segment)
}

/// A Git object name: 7 to 64 lowercase or uppercase hex digits (SHA-1 or SHA-256).
fn is_commit(sha: &str) -> bool {
    (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests;
