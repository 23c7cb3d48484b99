//! The security headers, in one list: what every answer of the function carries, and what the
//! page carries on top.
//!
//! The function sends them itself (`respond::with_headers`, `web::fallback`). On Vercel the page
//! is a static file that never passes through the function, so `vercel.json` repeats the page's
//! list on its routes to `public/`; a test below fails as soon as the two differ, and another
//! when the page's inline script or style no longer has the hash the policy names.
//!
//! Names and values are built by `const fn`s: one that is not a valid header fails the build,
//! never a request.

use http::{HeaderName, HeaderValue};

/// What the page may load: its own inline script and style, by hash, and `fetch` to its own
/// origin; nothing else, from anywhere.
///
/// - Scripts and styles by **hash**, never `'unsafe-inline'`: a record shown on the page comes
///   from another visitor, and should one ever reach the DOM as markup, an injected
///   `<script>`, `onerror=` or `javascript:` still does not run.
/// - `connect-src 'self'`: the page calls `/api/wait-until`, `/api/recent` and `/api/source`,
///   nothing else.
/// - No `img-src`, so no image at all: the page shows none (flags are emoji text), and the
///   browser does not even ask for a `/favicon.ico` that does not exist.
/// - `base-uri`, `form-action` and `frame-ancestors` do not fall back to `default-src`, so they
///   are named: no `<base>` can redirect relative URLs, no form can post anywhere, and no site
///   can frame the page (clickjacking the Fire button).
///
/// Changing a byte of the page's `<script>` or `<style>` changes its hash: the drift test below
/// prints the new one to paste here and into `vercel.json`.
pub const PAGE_CSP: &str = "default-src 'none'; \
    script-src 'sha256-Ol9lpzOMyg1zSeCEQ2vhsmjSLwhzh83adFuVlGPVb44='; \
    style-src 'sha256-mYWA7IMWow25EP7L1kmpMja7y7O7YxhjAdikFJwHUCQ='; \
    connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// On every answer of the function: JSON, errors, 404, 405 and the page.
pub const EVERY_RESPONSE: [(HeaderName, HeaderValue); 2] = [
    // A JSON answer holds text from other visitors (user agents): the browser must never sniff
    // it into HTML or script, whatever a proxy or an old client makes of its content type.
    (
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    ),
    // `no-referrer`, the strictest: the page's requests go to its own `/api`, which never reads
    // `Referer`, and its only links lead to its source; any laxer policy would only tell that
    // site where a visitor came from, and gains us nothing.
    (
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    ),
];

/// On the page only, after [`EVERY_RESPONSE`].
pub const PAGE_ONLY: [(HeaderName, HeaderValue); 2] = [
    (
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(PAGE_CSP),
    ),
    // `frame-ancestors 'none'` says the same to every current browser; this is for the old ones
    // that know only this header, and costs one line.
    (
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    ),
];

/// Every header the page carries, in order: [`EVERY_RESPONSE`] then [`PAGE_ONLY`].
pub fn page_headers() -> impl Iterator<Item = (HeaderName, HeaderValue)> {
    EVERY_RESPONSE.into_iter().chain(PAGE_ONLY)
}

#[cfg(test)]
mod tests;
