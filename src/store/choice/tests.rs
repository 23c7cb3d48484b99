use super::*;
use crate::settings::from_table;

fn choose(vars: &[(&str, &str)]) -> Choice {
    Choice::from_settings(&from_table(vars))
}

fn upstash(choice: &Choice) -> &UpstashSettings {
    match &choice.store {
        StoreChoice::Upstash(settings) => settings,
        other => panic!("expected Upstash, got {other:?}"),
    }
}

fn unconfigured(choice: &Choice) -> &str {
    match &choice.store {
        StoreChoice::Unconfigured(message) => message,
        other => panic!("expected unconfigured, got {other:?}"),
    }
}

const SETTINGS: [(&str, &str); 2] = [
    ("KV_REST_API_URL", "https://x.upstash.io/"),
    ("KV_REST_API_TOKEN", "write"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut vars = SETTINGS.to_vec();
    vars.extend_from_slice(extra);
    vars
}

#[test]
fn without_settings_the_memory_store_is_used() {
    assert_eq!(choose(&[]).store, StoreChoice::Memory);
}

#[test]
fn the_upstash_settings_select_upstash_with_both_tokens() {
    let c = choose(&with(&[("KV_REST_API_READ_ONLY_TOKEN", "read")]));
    let s = upstash(&c);
    assert_eq!(s.url, "https://x.upstash.io");
    assert_eq!(s.write.header, "Bearer write");
    assert_eq!(s.read.header, "Bearer read");
    assert_eq!(s.write.origin, "KV_REST_API_TOKEN in the environment");
    assert_eq!(
        s.read.origin,
        "KV_REST_API_READ_ONLY_TOKEN in the environment"
    );
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    assert_eq!(c.reason, "Upstash settings found");
}

#[test]
fn without_a_read_only_token_reads_use_the_write_token_and_a_note_says_so() {
    let c = choose(&SETTINGS);
    assert_eq!(upstash(&c).read, upstash(&c).write);
    assert_eq!(
        c.notes,
        ["KV_REST_API_READ_ONLY_TOKEN is not set: reads use the write token"]
    );
    let c = choose(&[
        ("UPSTASH_REDIS_REST_URL", "https://x.upstash.io"),
        ("UPSTASH_REDIS_REST_TOKEN", "write"),
    ]);
    assert_eq!(
        upstash(&c).read.origin,
        "UPSTASH_REDIS_REST_TOKEN in the environment"
    );
    assert_eq!(
        c.notes,
        ["UPSTASH_* has no read-only token name: reads use the write token"]
    );
}

#[test]
fn on_vercel_missing_settings_are_an_error_not_a_fallback() {
    let c = choose(&[("VERCEL", "1")]);
    assert!(unconfigured(&c).contains("KV_REST_API_URL"));
    assert!(c.reason.contains("VERCEL=1"), "{}", c.reason);
}

#[test]
fn vercel_dev_without_settings_keeps_records_in_the_project_s_file() {
    for vars in [
        &[("VERCEL_DEV", "1")][..],
        &[("VERCEL", "1"), ("VERCEL_DEV", "1")],
    ] {
        let c = choose(vars);
        assert_eq!(c.store, StoreChoice::File, "{vars:?}");
        assert!(
            c.reason.contains(super::super::file::DEV_PATH),
            "{}",
            c.reason
        );
    }
    // Its own settings, or a forced memory store, still win.
    let linked = choose(&with(&[("VERCEL_DEV", "1")]));
    upstash(&linked);
    let forced = choose(&[("VERCEL_DEV", "1"), ("WAIT_UNTIL_STORE", "memory")]);
    assert_eq!(forced.store, StoreChoice::Memory);
    // Only `1` means vercel dev, as only `1` means Vercel.
    assert_eq!(choose(&[("VERCEL_DEV", "true")]).store, StoreChoice::Memory);
}

#[test]
fn wait_until_store_memory_wins_over_any_upstash_settings() {
    let forced = choose(&with(&[("WAIT_UNTIL_STORE", "memory"), ("VERCEL", "1")]));
    assert_eq!(forced.store, StoreChoice::Memory);
    assert!(forced.notes.is_empty(), "{:?}", forced.notes);
    // Even settings that could not be used do not stand in its way.
    let odd_url = choose(&[
        ("KV_REST_API_URL", "redis://x:6379"),
        ("KV_REST_API_TOKEN", "w"),
        ("WAIT_UNTIL_STORE", "memory"),
    ]);
    assert_eq!(odd_url.store, StoreChoice::Memory);
    assert_eq!(odd_url.reason, "WAIT_UNTIL_STORE=memory");
}

#[test]
fn wait_until_store_upstash_without_settings_is_unconfigured_not_memory() {
    let c = choose(&[("WAIT_UNTIL_STORE", "upstash")]);
    assert_eq!(
        unconfigured(&c),
        "storage is not configured: set KV_REST_API_URL and KV_REST_API_TOKEN (add the Upstash \
         integration on Vercel)"
    );
    let c = choose(&with(&[("WAIT_UNTIL_STORE", "upstash")]));
    assert_eq!(upstash(&c).url, "https://x.upstash.io");
    assert_eq!(c.reason, "WAIT_UNTIL_STORE=upstash");
}

#[test]
fn an_unknown_wait_until_store_is_named_in_the_message() {
    let c = choose(&with(&[("WAIT_UNTIL_STORE", "postgres")]));
    assert!(unconfigured(&c).contains("`postgres`"));
    // Upstash is not used, so its read-only token is not worth a note.
    assert!(c.notes.is_empty(), "{:?}", c.notes);
}

#[test]
fn the_key_is_requests_newest_unless_wait_until_key_names_another() {
    assert_eq!(upstash(&choose(&SETTINGS)).key, "requests:newest");
    let named = choose(&with(&[("WAIT_UNTIL_KEY", " my-app:recent\n")]));
    assert_eq!(upstash(&named).key, "my-app:recent", "trimmed");
    let from_file = Choice::from_settings(&crate::settings::from_tables(
        &SETTINGS,
        &[("WAIT_UNTIL_KEY", "from-file")],
    ));
    assert_eq!(upstash(&from_file).key, "from-file");
}

#[test]
fn a_key_too_long_or_with_hidden_characters_is_refused_naming_the_variable() {
    let longest = "k".repeat(200);
    assert_eq!(
        upstash(&choose(&[
            SETTINGS[0],
            SETTINGS[1],
            ("WAIT_UNTIL_KEY", &longest)
        ]))
        .key,
        longest
    );
    let too_long = "k".repeat(201);
    for key in [too_long.as_str(), "a\tb", "a\u{202e}b", "a\u{7}b"] {
        let refused = choose(&[SETTINGS[0], SETTINGS[1], ("WAIT_UNTIL_KEY", key)]);
        let message = unconfigured(&refused);
        assert!(message.contains("WAIT_UNTIL_KEY"), "{message}");
        assert!(!message.contains(key), "never the value: {message}");
    }
}

#[test]
fn urls_are_read_as_urls_the_scheme_in_any_case() {
    for (written, used) in [
        ("HTTPS://X.Upstash.IO/", "https://x.upstash.io"),
        ("https://x.upstash.io//", "https://x.upstash.io"),
        ("http://127.0.0.1:8079", "http://127.0.0.1:8079"),
        (" https://x.upstash.io \r\n", "https://x.upstash.io"),
    ] {
        let c = choose(&[("KV_REST_API_URL", written), ("KV_REST_API_TOKEN", "w")]);
        assert_eq!(upstash(&c).url, used, "{written:?}");
    }
}

/// Settings that cannot work: the store is unconfigured (never memory, never a call that fails
/// later), and the message names the variable and where it was read, never its value.
#[test]
fn unusable_settings_are_refused_naming_the_variable_never_its_value() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("KV_REST_API_URL", "redis://x:6379"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            "KV_REST_API_URL in the environment must be an https:// URL: the database's REST \
             URL, not its `redis` address",
        ),
        (
            &[
                ("KV_REST_API_URL", "x.upstash.io"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            "KV_REST_API_URL in the environment is not a URL",
        ),
        (
            &[("KV_REST_API_URL", "https://"), ("KV_REST_API_TOKEN", "w")],
            "KV_REST_API_URL in the environment is not a URL",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://s3cret@x.io"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            "KV_REST_API_URL in the environment must not hold a user or password",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://:s3cret@x.io"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            "KV_REST_API_URL in the environment must not hold a user or password",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io#s3cret"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            "KV_REST_API_URL in the environment must be the database's REST URL, without `?` or `#`",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io/?token=s3cret"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            "KV_REST_API_URL in the environment must be the database's REST URL, without `?` or `#`",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io"),
                ("KV_REST_API_TOKEN", "s3cret\nline"),
            ],
            "KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io"),
                ("KV_REST_API_TOKEN", "s3crét"),
            ],
            "KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io"),
                ("KV_REST_API_TOKEN", "\"s3cret\""),
            ],
            "KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io"),
                ("KV_REST_API_TOKEN", "'s3cret'"),
            ],
            "KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io"),
                ("KV_REST_API_TOKEN", "`s3cret`"),
            ],
            "KV_REST_API_TOKEN in the environment cannot be sent as an HTTP header",
        ),
        (
            &[
                ("KV_REST_API_URL", "https://x.io"),
                ("KV_REST_API_TOKEN", "w"),
                ("KV_REST_API_READ_ONLY_TOKEN", "s3cret\u{7f}"),
            ],
            "KV_REST_API_READ_ONLY_TOKEN in the environment cannot be sent as an HTTP header",
        ),
        (
            &[("KV_REST_API_URL", "https://x.io")],
            "KV_REST_API_URL is set in the environment, but KV_REST_API_TOKEN is not",
        ),
        (
            &[("UPSTASH_REDIS_REST_TOKEN", "s3cret")],
            "UPSTASH_REDIS_REST_TOKEN is set in the environment, but UPSTASH_REDIS_REST_URL is not",
        ),
        (
            &[("KV_REST_API_READ_ONLY_TOKEN", "s3cret")],
            "KV_REST_API_READ_ONLY_TOKEN is set in the environment, but KV_REST_API_URL and \
             KV_REST_API_TOKEN are not",
        ),
    ];
    for (vars, expected) in cases {
        for forced in [false, true] {
            let mut vars = vars.to_vec();
            if forced {
                vars.push(("WAIT_UNTIL_STORE", "upstash"));
            }
            let c = choose(&vars);
            let message = unconfigured(&c);
            assert!(message.starts_with(expected), "{vars:?}: {message}");
            assert!(!message.contains("s3cret"), "{vars:?}: {message}");
            assert_eq!(c.reason, "the Upstash settings cannot be used", "{vars:?}");
        }
    }
}

#[test]
fn a_token_pulled_with_its_newline_works() {
    let c = choose(&[
        ("KV_REST_API_URL", "https://x.upstash.io"),
        ("KV_REST_API_TOKEN", "write\r\n"),
    ]);
    assert_eq!(upstash(&c).write.header, "Bearer write");
}

#[test]
fn debug_output_shows_the_url_and_where_each_token_came_from_never_a_token() {
    let c = choose(&with(&[("KV_REST_API_READ_ONLY_TOKEN", "s3cret-read")]));
    let shown = format!("{:?}", upstash(&c));
    assert_eq!(
        shown,
        "UpstashSettings { url: \"https://x.upstash.io\", \
         write: <redacted> (KV_REST_API_TOKEN in the environment), \
         read: <redacted> (KV_REST_API_READ_ONLY_TOKEN in the environment), \
         key: \"requests:newest\" }"
    );
}

#[test]
fn an_unreadable_env_local_is_the_problem_when_the_environment_sets_nothing() {
    let problem = ".env.local is not a regular file: fix or remove it";
    let mut settings = from_table(&[]);
    settings.file_problem = Some(problem.into());
    let c = Choice::from_settings(&settings);
    assert_eq!(unconfigured(&c), problem);
    assert!(c.notes.is_empty(), "said once: {:?}", c.notes);
    // Also when Upstash is asked for: the file is what to fix, not a variable to set.
    settings.store = Some("upstash".into());
    assert_eq!(unconfigured(&Choice::from_settings(&settings)), problem);
    // With settings in the environment the file does not matter, but it is still said.
    let mut settings = from_table(&SETTINGS);
    settings.file_problem = Some(problem.into());
    let c = Choice::from_settings(&settings);
    assert_eq!(upstash(&c).url, "https://x.upstash.io");
    assert!(c.notes.contains(&problem.to_string()), "{:?}", c.notes);
}

#[test]
fn plain_http_is_noted_unless_the_host_is_this_machine() {
    let c = choose(&[
        ("KV_REST_API_URL", "http://x.upstash.io"),
        ("KV_REST_API_TOKEN", "w"),
    ]);
    assert_eq!(upstash(&c).url, "http://x.upstash.io");
    assert!(
        c.notes.iter().any(|n| n.starts_with(
            "KV_REST_API_URL in the environment uses http://: the token travels unencrypted"
        )),
        "{:?}",
        c.notes
    );
    let c = choose(&[
        ("KV_REST_API_URL", "http://127.0.0.1:8079"),
        ("KV_REST_API_TOKEN", "w"),
    ]);
    assert!(
        !c.notes.iter().any(|n| n.contains("http://")),
        "{:?}",
        c.notes
    );
}
