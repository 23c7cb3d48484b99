//! Drift tests: the policy against the page it guards, and `vercel.json` against this list.

use super::*;
use base64::Engine as _;
use std::collections::BTreeMap;

const PAGE: &str = include_str!("../../public/index.html");
const VERCEL_JSON: &str = include_str!("../../vercel.json");

/// The contents of every `<tag …>…</tag>` element of `html`, in order.
fn inline_blocks<'a>(html: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut blocks = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after_open = &rest[start..];
        let body = &after_open[after_open.find('>').expect("an open tag ends") + 1..];
        let end = body.find(&close).expect("every element is closed");
        blocks.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    blocks
}

/// `'sha256-…'` of `text`, as a CSP source names it.
fn csp_hash(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
    )
}

/// The sources of `directive` in [`PAGE_CSP`].
fn sources(directive: &str) -> Vec<&'static str> {
    PAGE_CSP
        .split(';')
        .map(|d| d.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&directive))
        .map(|words| words[1..].to_vec())
        .unwrap_or_default()
}

fn as_map(headers: impl Iterator<Item = (HeaderName, HeaderValue)>) -> BTreeMap<String, String> {
    headers
        .map(|(name, value)| {
            let value = value.to_str().expect("our values are visible ASCII");
            (name.as_str().to_owned(), value.to_owned())
        })
        .collect()
}

#[test]
fn every_inline_script_and_style_of_the_page_is_allowed_by_its_hash_and_nothing_else() {
    for (tag, directive) in [("script", "script-src"), ("style", "style-src")] {
        let blocks = inline_blocks(PAGE, tag);
        assert!(
            !blocks.is_empty(),
            "the page has no <{tag}>: is this the page?"
        );
        let wanted: Vec<String> = blocks.iter().map(|block| csp_hash(block)).collect();
        assert_eq!(
            sources(directive),
            wanted,
            "{directive} in security::PAGE_CSP does not name the hashes of the page's <{tag}> \
             elements. If you changed public/index.html on purpose, put {wanted:?} in \
             PAGE_CSP and in vercel.json (the other test says where)"
        );
    }
    for weakening in ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"] {
        assert!(!PAGE_CSP.contains(weakening), "PAGE_CSP allows {weakening}");
    }
}

#[test]
fn the_policy_loads_nothing_from_other_origins() {
    assert_eq!(sources("default-src"), ["'none'"]);
    for directive in ["base-uri", "form-action", "frame-ancestors"] {
        assert_eq!(sources(directive), ["'none'"], "{directive}");
    }
    for source in PAGE_CSP
        .split(';')
        .flat_map(|d| d.split_whitespace().skip(1))
    {
        assert!(
            source.starts_with('\''),
            "{source}: a host or scheme source in PAGE_CSP lets the page load from elsewhere"
        );
    }
}

#[test]
fn vercel_json_gives_the_static_page_exactly_the_page_headers() {
    let config: serde_json::Value = serde_json::from_str(VERCEL_JSON).expect("vercel.json is JSON");
    let routes = config["routes"].as_array().expect("vercel.json has routes");
    let wanted = as_map(page_headers());
    let mut static_routes = 0;
    for route in routes {
        let dest = route["dest"].as_str().unwrap_or_default();
        let headers: BTreeMap<String, String> = route["headers"]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        if dest.starts_with("/public/") {
            static_routes += 1;
            assert_eq!(
                headers, wanted,
                "vercel.json route {route} serves the page as a static file on Vercel: its \
                 `headers` must be security::page_headers(), exactly"
            );
        } else {
            // The function sends its own; a route header would override them on Vercel alone.
            assert!(
                headers.is_empty(),
                "vercel.json route {route}: the function sets its own headers"
            );
        }
    }
    assert!(
        static_routes >= 2,
        "vercel.json has no routes to public/ for `/` and the rest"
    );
}

#[test]
fn bundled_apis_own_404_carries_the_headers_of_every_answer() {
    // Not reached by our function (its fallback answers instead), but a user of `bundled_api`
    // without a fallback gets this one, and it keeps its own copy of the values.
    let response = bundled_api::not_found();
    let got = as_map(
        response
            .headers()
            .iter()
            .map(|(name, value)| (name.clone(), value.clone())),
    );
    for (name, value) in as_map(EVERY_RESPONSE.into_iter()) {
        assert_eq!(
            got.get(&name),
            Some(&value),
            "bundled_api::not_found: {name}"
        );
    }
}

#[test]
fn the_block_reader_finds_each_element_and_only_its_contents() {
    let html =
        "<style>a{}</style><p>x</p><script>one()</script>\n<script type=\"module\">two()</script>";
    assert_eq!(inline_blocks(html, "script"), ["one()", "two()"]);
    assert_eq!(inline_blocks(html, "style"), ["a{}"]);
    // The hash CSP Level 2 gives as its example: of `alert('Hello, world.');`.
    assert_eq!(
        csp_hash("alert('Hello, world.');"),
        "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
    );
}
