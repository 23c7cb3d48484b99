use super::*;

/// What one case of the table must resolve to.
struct Expect {
    family: &'static str,
    source: Option<Source>,
    url: Option<&'static str>,
    write_token: Option<&'static str>,
    read_token: Option<&'static str>,
    /// A note that must be printed (each case with `None` must print none).
    note: Option<&'static str>,
}

const ENV: Option<Source> = Some(Source::Environment);
const FILE: Option<Source> = Some(Source::EnvLocal);

fn case(
    family: &'static str,
    source: Option<Source>,
    [url, write_token, read_token]: [Option<&'static str>; 3],
    note: Option<&'static str>,
) -> Expect {
    Expect {
        family,
        source,
        url,
        write_token,
        read_token,
        note,
    }
}

type Vars = &'static [(&'static str, &'static str)];

/// The precedence, case by case: the environment against `.env.local`, `KV_*` against
/// `UPSTASH_*`, mixed sets, empty and padded values. The README's table says the same.
#[test]
fn the_upstash_settings_resolve_as_one_set() {
    let cases: &[(&str, Vars, Vars, Expect)] = &[
        (
            "nothing set",
            &[],
            &[],
            case("UPSTASH_*", None, [None, None, None], None),
        ),
        (
            "KV_* in the environment",
            &[
                ("KV_REST_API_URL", "https://kv"),
                ("KV_REST_API_TOKEN", "w"),
                ("KV_REST_API_READ_ONLY_TOKEN", "r"),
            ],
            &[],
            case(
                "KV_*",
                ENV,
                [Some("https://kv"), Some("w"), Some("r")],
                None,
            ),
        ),
        (
            "UPSTASH_* in the environment: no read-only name, so no read token",
            &[
                ("UPSTASH_REDIS_REST_URL", "https://up"),
                ("UPSTASH_REDIS_REST_TOKEN", "w"),
            ],
            &[],
            case(
                "UPSTASH_*",
                ENV,
                [Some("https://up"), Some("w"), None],
                None,
            ),
        ),
        (
            "KV_* only in .env.local",
            &[],
            &[
                ("KV_REST_API_URL", "https://kv"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            case("KV_*", FILE, [Some("https://kv"), Some("w"), None], None),
        ),
        (
            "the environment wins as a whole, even against the file's KV_*",
            &[
                ("UPSTASH_REDIS_REST_URL", "https://up"),
                ("UPSTASH_REDIS_REST_TOKEN", "w-up"),
            ],
            &[
                ("KV_REST_API_URL", "https://kv"),
                ("KV_REST_API_TOKEN", "w-kv"),
            ],
            case(
                "UPSTASH_*",
                ENV,
                [Some("https://up"), Some("w-up"), None],
                Some("those in .env.local are not read"),
            ),
        ),
        (
            "a URL in the environment never takes a token from the file",
            &[("KV_REST_API_URL", "https://kv")],
            &[("KV_REST_API_TOKEN", "w-file")],
            case(
                "KV_*",
                ENV,
                [Some("https://kv"), None, None],
                Some("those in .env.local are not read"),
            ),
        ),
        (
            "a KV_* read token never joins an UPSTASH_* URL",
            &[
                ("UPSTASH_REDIS_REST_URL", "https://up"),
                ("UPSTASH_REDIS_REST_TOKEN", "w-up"),
                ("KV_REST_API_READ_ONLY_TOKEN", "r-other-db"),
            ],
            &[],
            case(
                "UPSTASH_*",
                ENV,
                [Some("https://up"), Some("w-up"), None],
                Some("KV_REST_API_READ_ONLY_TOKEN ignored"),
            ),
        ),
        (
            "both families with the same values: KV_*, nothing to say",
            &[
                ("KV_REST_API_URL", "https://db"),
                ("KV_REST_API_TOKEN", "w"),
                ("UPSTASH_REDIS_REST_URL", "https://db"),
                ("UPSTASH_REDIS_REST_TOKEN", "w"),
            ],
            &[],
            case("KV_*", ENV, [Some("https://db"), Some("w"), None], None),
        ),
        (
            "both families disagreeing: KV_*, and a note names what is ignored",
            &[
                ("KV_REST_API_URL", "https://kv"),
                ("KV_REST_API_TOKEN", "w-kv"),
                ("UPSTASH_REDIS_REST_URL", "https://up"),
                ("UPSTASH_REDIS_REST_TOKEN", "w-up"),
            ],
            &[],
            case(
                "KV_*",
                ENV,
                [Some("https://kv"), Some("w-kv"), None],
                Some(
                    "UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN ignored: the Upstash \
                     settings are read from one family, KV_* (KV_* are the names Vercel's \
                     Upstash integration sets)",
                ),
            ),
        ),
        (
            "a KV_* URL never takes an UPSTASH_* token",
            &[
                ("KV_REST_API_URL", "https://kv"),
                ("UPSTASH_REDIS_REST_TOKEN", "w-up"),
            ],
            &[],
            case(
                "KV_*",
                ENV,
                [Some("https://kv"), None, None],
                Some("UPSTASH_REDIS_REST_TOKEN ignored"),
            ),
        ),
        (
            "no URL at all: the family that has anything, so the missing URL is named in it",
            &[("KV_REST_API_TOKEN", "w")],
            &[],
            case("KV_*", ENV, [None, Some("w"), None], None),
        ),
        (
            "an empty environment value hides nothing in the file",
            &[("KV_REST_API_URL", ""), ("KV_REST_API_TOKEN", "  \t ")],
            &[
                ("KV_REST_API_URL", "https://kv"),
                ("KV_REST_API_TOKEN", "w"),
            ],
            case("KV_*", FILE, [Some("https://kv"), Some("w"), None], None),
        ),
        (
            "values are trimmed: CRLF tokens, padded URLs",
            &[
                ("KV_REST_API_URL", "  https://kv \n"),
                ("KV_REST_API_TOKEN", "w\r\n"),
                ("KV_REST_API_READ_ONLY_TOKEN", "\tr\n"),
            ],
            &[],
            case(
                "KV_*",
                ENV,
                [Some("https://kv"), Some("w"), Some("r")],
                None,
            ),
        ),
    ];
    fn value(setting: &Option<Setting>) -> Option<&str> {
        setting.as_ref().map(|s| s.value.as_str())
    }
    for (name, environment, file, expect) in cases {
        let settings = from_tables(environment, file);
        let vars = &settings.upstash;
        assert_eq!(vars.family.label, expect.family, "{name}");
        assert_eq!(value(&vars.url), expect.url, "{name}: url");
        assert_eq!(
            value(&vars.write_token),
            expect.write_token,
            "{name}: write"
        );
        assert_eq!(value(&vars.read_token), expect.read_token, "{name}: read");
        let sources: Vec<_> = [&vars.url, &vars.write_token, &vars.read_token]
            .into_iter()
            .flatten()
            .map(|setting| setting.source)
            .collect();
        assert!(
            sources.iter().all(|source| Some(*source) == expect.source),
            "{name}: {sources:?}"
        );
        match expect.note {
            None => assert!(settings.notes.is_empty(), "{name}: {:?}", settings.notes),
            Some(note) => assert!(
                settings.notes.iter().any(|n| n.contains(note)),
                "{name}: {:?}",
                settings.notes
            ),
        }
    }
}

#[test]
fn wait_until_settings_fall_back_to_the_file_name_by_name() {
    let s = from_tables(
        &[("WAIT_UNTIL_STORE", " ")],
        &[
            ("WAIT_UNTIL_STORE", "memory"),
            ("WAIT_UNTIL_SUCCESS_LINES", "off"),
        ],
    );
    assert_eq!(s.store.as_deref(), Some("memory"));
    assert!(!s.success_lines);
    let s = from_tables(
        &[("WAIT_UNTIL_STORE", "upstash")],
        &[("WAIT_UNTIL_STORE", "memory")],
    );
    assert_eq!(s.store.as_deref(), Some("upstash"));
}

#[test]
fn our_own_words_are_matched_in_any_case() {
    assert_eq!(
        from_table(&[("WAIT_UNTIL_STORE", " Memory ")])
            .store
            .as_deref(),
        Some("memory")
    );
    assert!(!from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "OFF")]).success_lines);
}

/// The runtime parses `VERCEL_DEV_PORT` itself and falls back quietly: we say so.
#[test]
fn a_port_the_runtime_cannot_use_is_noted() {
    for (written, listens_on) in [
        ("abc", "3000"),
        (" 3001 ", "3000"),
        ("65536", "3000"),
        ("0", "a random port"),
    ] {
        let notes = from_table(&[("VERCEL_DEV_PORT", written)]).notes;
        assert_eq!(notes.len(), 1, "{written:?}: {notes:?}");
        assert!(
            notes[0].ends_with(&format!("the local server listens on {listens_on}")),
            "{written:?}: {notes:?}"
        );
    }
    assert!(from_table(&[("VERCEL_DEV_PORT", "3001")]).notes.is_empty());
    assert!(from_table(&[("VERCEL_DEV_PORT", " ")]).notes.is_empty());
}

#[test]
fn vercel_means_deployed_unless_vercel_dev_says_local() {
    assert!(!from_table(&[]).on_vercel);
    assert!(from_table(&[("VERCEL", "1")]).on_vercel);
    assert!(!from_table(&[("VERCEL", "1"), ("VERCEL_DEV", "1")]).on_vercel);
}

#[test]
fn where_the_process_runs_is_never_read_from_a_pulled_file() {
    assert!(!from_tables(&[], &[("VERCEL", "1")]).on_vercel);
    assert!(from_tables(&[("VERCEL", "1")], &[("VERCEL_DEV", "1")]).on_vercel);
}

#[test]
fn the_source_url_is_read_from_either_source_and_git_vars_from_the_environment_only() {
    let file = from_tables(
        &[],
        &[("WAIT_UNTIL_SOURCE_URL", " https://example.com/a/b\n")],
    );
    assert_eq!(file.source_url.as_deref(), Some("https://example.com/a/b"));
    let git = [
        ("VERCEL_GIT_PROVIDER", "github"),
        ("VERCEL_GIT_REPO_OWNER", "acme"),
        ("VERCEL_GIT_REPO_SLUG", "api"),
        ("VERCEL_GIT_COMMIT_SHA", "abc"),
    ];
    let read = from_table(&git).git;
    assert_eq!(
        [read.provider, read.owner, read.slug, read.commit].map(Option::unwrap),
        ["github", "acme", "api", "abc"]
    );
    assert_eq!(from_tables(&[], &git).git, GitVars::default());
}

#[test]
fn success_lines_are_on_unless_turned_off() {
    assert!(from_table(&[]).success_lines);
    assert!(from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "on")]).success_lines);
    assert!(!from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "off")]).success_lines);
    let odd = from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "quiet")]);
    assert!(odd.success_lines);
    assert!(odd.notes[0].contains("`quiet`"), "{:?}", odd.notes);
}

#[test]
fn debug_output_shows_the_url_and_where_each_token_came_from_never_a_token() {
    let s = from_tables(
        &[
            ("KV_REST_API_URL", "https://x"),
            ("KV_REST_API_TOKEN", "s3cret-write"),
            ("KV_REST_API_READ_ONLY_TOKEN", "s3cret-read"),
        ],
        &[],
    );
    let shown = format!("{s:?}");
    assert!(
        shown.contains(r#"url: Some("https://x" (KV_REST_API_URL in the environment))"#),
        "{shown}"
    );
    assert!(
        shown.contains(r#"write_token: Some("<redacted> (KV_REST_API_TOKEN in the environment)")"#),
        "{shown}"
    );
    assert!(
        shown.contains("<redacted> (KV_REST_API_READ_ONLY_TOKEN in the environment)"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[test]
fn values_shown_in_messages_cannot_forge_a_line() {
    let s = from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "x\u{1b}[31mRED\nnote: fake")]);
    assert_eq!(s.notes.len(), 1);
    assert!(s.notes[0].contains("`x[31mrednote: fake`"), "{:?}", s.notes);
    assert!(!s.notes[0].contains(['\u{1b}', '\n']), "{:?}", s.notes);
}

#[test]
fn a_value_shown_in_a_message_is_cut_at_32_characters() {
    let shown = super::shown(&format!("{}{}", "a".repeat(32), "b".repeat(10)));
    assert_eq!(shown, "a".repeat(32));
}
