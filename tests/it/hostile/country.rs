//! `x-vercel-ip-country`: kept only as exactly one header of exactly two ASCII letters
//! (upper-cased, with its flag); anything else, including a repeat, stores no country.

use super::{Case, IPV4, attack, fire, stored};
use testkit::{TEST_LIMIT, within};

/// `GET /api/wait-until` with these country headers, stored with `expected`.
fn country(name: &'static str, headers: &str, expected: Option<&'static str>) -> Case {
    fire(name, headers, stored("GET", "", expected))
}

#[tokio::test]
async fn only_one_two_letter_country_header_becomes_a_country() {
    within(TEST_LIMIT, "every country case checked", async {
        attack(
            "country",
            vec![
                country(
                    "lower-case country",
                    "\r\nx-vercel-ip-country: fr",
                    Some("FR"),
                ),
                country(
                    "mixed-case country",
                    "\r\nx-vercel-ip-country: fR",
                    Some("FR"),
                ),
                country(
                    "country header name in odd case",
                    "\r\nX-Vercel-IP-Country: de",
                    Some("DE"),
                ),
                country(
                    "padded country",
                    "\r\nx-vercel-ip-country:   it  ",
                    Some("IT"),
                ),
                country(
                    "two unassigned letters are kept as letters",
                    "\r\nx-vercel-ip-country: ZZ",
                    Some("ZZ"),
                ),
                country("three-letter country", "\r\nx-vercel-ip-country: FRA", None),
                country("one-letter country", "\r\nx-vercel-ip-country: F", None),
                country("digits as a country", "\r\nx-vercel-ip-country: 12", None),
                country("non-ASCII country", "\r\nx-vercel-ip-country: ÉS", None),
                fire(
                    "Latin-1 country",
                    b"\r\nx-vercel-ip-country: \xc9S",
                    stored("GET", "", None),
                ),
                country(
                    "flag emoji as a country",
                    "\r\nx-vercel-ip-country: 🇫🇷",
                    None,
                ),
                country(
                    "repeated country",
                    "\r\nx-vercel-ip-country: FR\r\nx-vercel-ip-country: DE",
                    None,
                ),
                country(
                    "repeated identical country",
                    "\r\nx-vercel-ip-country: FR\r\nx-vercel-ip-country: FR",
                    None,
                ),
                country("country list", "\r\nx-vercel-ip-country: FR, DE", None),
                country("empty country", "\r\nx-vercel-ip-country: ", None),
                country("country with markup", "\r\nx-vercel-ip-country: <b>", None),
                country(
                    "an IP as the country",
                    &format!("\r\nx-vercel-ip-country: {IPV4}"),
                    None,
                ),
            ],
        )
        .await;
    })
    .await;
}
