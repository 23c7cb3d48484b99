//! Every IP header we know of, and the geography Vercel adds: none is ever read, so nothing of
//! them is stored or printed (the checks of `attack` look for the addresses everywhere).

use super::{Case, IPV4, IPV6, PRIVATE_IP, attack, fire, stored};
use testkit::{TEST_LIMIT, within};

/// `GET /api/wait-until` with these IP headers: stored with nothing from them.
fn ip_headers(name: &'static str, headers: String) -> Case {
    fire(name, headers, stored("GET", "", None))
}

#[tokio::test]
async fn ip_headers_are_never_stored_or_logged() {
    within(TEST_LIMIT, "every ip_headers case checked", async {
        attack(
            "ip_headers",
            vec![
                ip_headers(
                    "x-forwarded-for",
                    format!("\r\nx-forwarded-for: {IPV4}, {PRIVATE_IP}"),
                ),
                ip_headers(
                    "x-forwarded-for with IPv6",
                    format!("\r\nx-forwarded-for: {IPV6}"),
                ),
                ip_headers("x-real-ip", format!("\r\nx-real-ip: {IPV4}")),
                ip_headers(
                    "x-vercel-forwarded-for",
                    format!("\r\nx-vercel-forwarded-for: {IPV4}"),
                ),
                ip_headers(
                    "x-vercel-proxied-for",
                    format!("\r\nx-vercel-proxied-for: {IPV4}"),
                ),
                ip_headers(
                    "forwarded",
                    format!("\r\nforwarded: for={IPV4};proto=https, for=\"[{IPV6}]\""),
                ),
                ip_headers(
                    "cf-connecting-ip and true-client-ip",
                    format!("\r\ncf-connecting-ip: {IPV4}\r\ntrue-client-ip: {IPV6}"),
                ),
                ip_headers(
                    "x-client-ip, x-cluster-client-ip, client-ip, fastly-client-ip",
                    format!(
                        "\r\nx-client-ip: {IPV4}\r\nx-cluster-client-ip: {IPV4}\r\nclient-ip: {IPV4}\
                         \r\nfastly-client-ip: {IPV4}"
                    ),
                ),
                ip_headers(
                    "x-originating-ip, x-remote-addr, via",
                    format!(
                        "\r\nx-originating-ip: {IPV4}\r\nx-remote-addr: {IPV4}\r\nvia: 1.1 {PRIVATE_IP}"
                    ),
                ),
                ip_headers(
                    "an IP as the forwarded host",
                    format!("\r\nx-forwarded-host: {IPV4}\r\nx-host: {IPV6}"),
                ),
                ip_headers(
                    "Vercel geography headers",
                    format!(
                        "\r\nx-vercel-ip-city: {IPV4}\r\nx-vercel-ip-latitude: {IPV4}\
                         \r\nx-vercel-ip-country-region: {IPV6}"
                    ),
                ),
            ],
        )
        .await;
    })
    .await;
}
