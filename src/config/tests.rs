//! The configuration's promises, case by case: where each value is read, the store each rule
//! chooses, what is refused and how it is said, and how `.env.local` is read.

use super::*;

/// `name` in a table standing for the environment or `.env.local`.
fn lookup(vars: &[(&str, &str)], name: &str) -> Option<String> {
    let found = vars.iter().rev().find(|(key, _)| *key == name);
    found.map(|(_, value)| value.to_string())
}

/// The configuration from two tables: the environment and `.env.local`.
pub(crate) fn from_tables(environment: &[(&str, &str)], file: &[(&str, &str)]) -> Config {
    let vars = file.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let file = EnvFile {
        vars: vars.collect(),
        ..EnvFile::default()
    };
    Config::from_sources(&|name| lookup(environment, name), &file)
}

/// The configuration from a table standing for the environment, with no `.env.local`.
pub(crate) fn from_table(vars: &[(&str, &str)]) -> Config {
    from_tables(vars, &[])
}

// ---- Where values are read ----

/// What one case of the table must resolve to.
struct Expect {
    family: &'static str,
    source: &'static str,
    url: Option<&'static str>,
    write_token: Option<&'static str>,
    read_token: Option<&'static str>,
    /// A note that must be printed (each case with `None` must print none).
    note: Option<&'static str>,
}

const ENV: &str = "the environment";
const FILE: &str = ".env.local";

fn case(
    family: &'static str,
    source: &'static str,
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
/// `UPSTASH_*`, mixed sets, empty and padded values. The table in the module's docs says the same.
#[test]
fn the_upstash_settings_resolve_as_one_set() {
    let cases: &[(&str, Vars, Vars, Expect)] = &[
        (
            "nothing set",
            &[],
            &[],
            case("UPSTASH_*", FILE, [None, None, None], None),
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
    for (name, environment, file, expect) in cases {
        let env = |name: &str| lookup(environment, name).and_then(present);
        let in_file = |name: &str| lookup(file, name).and_then(present);
        let mut notes = Vec::new();
        let found = resolve(&env, &in_file, &mut notes);
        assert_eq!(label(found.0), expect.family, "{name}");
        let [url, write, read] = found.1;
        assert_eq!(url.as_deref(), expect.url, "{name}: url");
        assert_eq!(write.as_deref(), expect.write_token, "{name}: write");
        assert_eq!(read.as_deref(), expect.read_token, "{name}: read");
        assert_eq!(found.2, expect.source, "{name}");
        match expect.note {
            None => assert!(notes.is_empty(), "{name}: {notes:?}"),
            Some(note) => assert!(notes.iter().any(|n| n.contains(note)), "{name}: {notes:?}"),
        }
    }
}

/// The store `config` uses, by kind.
fn kind(config: &Config) -> &'static str {
    match config.store {
        Store::Unconfigured(_) => "unconfigured",
        ref store => store.kind(),
    }
}

#[test]
fn wait_until_settings_fall_back_to_the_file_name_by_name() {
    let c = from_tables(
        &[("WAIT_UNTIL_STORE", " "), ("VERCEL", "1")],
        &[
            ("WAIT_UNTIL_STORE", "memory"),
            ("WAIT_UNTIL_SUCCESS_LINES", "off"),
        ],
    );
    assert_eq!(kind(&c), "memory");
    assert!(!c.success_lines);
    let c = from_tables(
        &[("WAIT_UNTIL_STORE", "upstash")],
        &[("WAIT_UNTIL_STORE", "memory")],
    );
    assert_eq!(c.why, "WAIT_UNTIL_STORE=upstash but no Upstash settings");
}

#[test]
fn our_own_words_are_matched_in_any_case() {
    let c = from_table(&[("WAIT_UNTIL_STORE", " Memory "), ("VERCEL", "1")]);
    assert_eq!(kind(&c), "memory");
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
    assert_eq!(kind(&from_table(&[])), "memory");
    assert_eq!(kind(&from_table(&[("VERCEL", "1")])), "unconfigured");
    assert_eq!(
        kind(&from_table(&[("VERCEL", "1"), ("VERCEL_DEV", "1")])),
        "file"
    );
}

#[test]
fn where_the_process_runs_is_never_read_from_a_pulled_file() {
    assert_eq!(kind(&from_tables(&[], &[("VERCEL", "1")])), "memory");
    let c = from_tables(&[("VERCEL", "1")], &[("VERCEL_DEV", "1")]);
    assert_eq!(kind(&c), "unconfigured");
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
    assert_eq!(
        from_table(&git).git.map(Option::unwrap),
        ["github", "acme", "api", "abc"]
    );
    assert_eq!(from_tables(&[], &git).git, [None, None, None, None]);
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
fn values_shown_in_messages_cannot_forge_a_line() {
    let c = from_table(&[("WAIT_UNTIL_SUCCESS_LINES", "x\u{1b}[31mRED\nnote: fake")]);
    assert_eq!(c.notes.len(), 1);
    assert!(c.notes[0].contains("`x[31mrednote: fake`"), "{:?}", c.notes);
    assert!(!c.notes[0].contains(['\u{1b}', '\n']), "{:?}", c.notes);
}

#[test]
fn a_value_shown_in_a_message_is_cut_at_32_characters() {
    let shown = super::shown(&format!("{}{}", "a".repeat(32), "b".repeat(10)));
    assert_eq!(shown, "a".repeat(32));
}

/// GUIDE.md's tables of where values are read and of the store rules are this module's, as
/// they are: the precedence is written once, here.
#[test]
fn the_guide_states_the_precedence_as_the_code_s_docs_do() {
    let docs = include_str!("../config.rs").replace("\n//! |", "\n\u{0}|");
    let tables: Vec<String> = docs
        .split("\n\n")
        .flat_map(|part| part.split("\n//!\n"))
        .filter(|block| block.contains('\u{0}'))
        .map(|block| {
            let rows = block.lines().filter_map(|line| line.strip_prefix('\u{0}'));
            rows.collect::<Vec<_>>().join("\n")
        })
        .collect();
    assert_eq!(
        tables.len(),
        2,
        "where values are read, and the store rules"
    );
    let guide = include_str!("../../GUIDE.md");
    for table in tables {
        assert!(
            guide.contains(&table),
            "GUIDE.md must hold, as it is:\n{table}"
        );
    }
}

// ---- Secrets ----

fn secret_of(token: &str) -> Secret {
    super::secret(token, "KV_REST_API_TOKEN in the environment".into()).unwrap()
}

#[test]
fn a_token_header_is_marked_sensitive_and_never_printed() {
    let token = secret_of("AXy/s3cret=");
    assert!(token.header.is_sensitive());
    assert_eq!(token.header, "Bearer AXy/s3cret=");
    assert_eq!(
        format!("{token:?}"),
        "<redacted> (KV_REST_API_TOKEN in the environment)"
    );
}

/// Redaction is for shown text only: every occurrence goes, and a token of one letter is
/// taken out of a message just the same (a reply that is parsed is never touched: see the
/// client's tests).
#[test]
fn a_token_is_taken_out_of_shown_text() {
    let token = secret_of("AXy/s3cret=");
    assert_eq!(
        token.redact("bad token AXy/s3cret= or AXy/s3cret="),
        "bad token <redacted> or <redacted>"
    );
    assert_eq!(token.redact("nothing to hide"), "nothing to hide");
    assert_eq!(secret_of("w").redact("w=w"), "<redacted>=<redacted>");
}

#[test]
fn loopback_hosts_are_told_apart_from_the_rest() {
    let url = |url: &str| {
        reqwest::Url::parse(url)
            .unwrap()
            .host_str()
            .unwrap()
            .to_string()
    };
    for loopback in [
        "http://localhost:8079",
        "http://127.0.0.2",
        "http://[::1]:80",
    ] {
        assert!(is_loopback(&url(loopback)), "{loopback}");
    }
    for other in [
        "http://x.upstash.io",
        "http://10.0.0.1",
        "http://localhost.evil.io",
        "http://notlocalhost",
    ] {
        assert!(!is_loopback(&url(other)), "{other}");
    }
}

// ---- The store each rule chooses ----

fn choose(vars: &[(&str, &str)]) -> Config {
    from_table(vars)
}

fn upstash(config: &Config) -> &UpstashStore {
    match &config.store {
        Store::Upstash(store) => store,
        other => panic!("expected Upstash, got {other:?}"),
    }
}

fn unconfigured(config: &Config) -> &str {
    match &config.store {
        Store::Unconfigured(message) => message,
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
    assert!(matches!(choose(&[]).store, Store::Memory(_)));
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
    assert_eq!(c.why, "Upstash settings found");
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
    assert!(c.why.contains("VERCEL=1"), "{}", c.why);
}

#[test]
fn vercel_dev_without_settings_keeps_records_in_the_project_s_file() {
    for vars in [
        &[("VERCEL_DEV", "1")][..],
        &[("VERCEL", "1"), ("VERCEL_DEV", "1")],
    ] {
        let c = choose(vars);
        assert!(matches!(c.store, Store::File(_)), "{vars:?}");
        assert!(c.why.contains(file::DEV_PATH), "{}", c.why);
    }
    // Its own settings, or a forced memory store, still win.
    let linked = choose(&with(&[("VERCEL_DEV", "1")]));
    upstash(&linked);
    let forced = choose(&[("VERCEL_DEV", "1"), ("WAIT_UNTIL_STORE", "memory")]);
    assert!(matches!(forced.store, Store::Memory(_)));
    // Only `1` means vercel dev, as only `1` means Vercel.
    assert!(matches!(
        choose(&[("VERCEL_DEV", "true")]).store,
        Store::Memory(_)
    ));
}

#[test]
fn wait_until_store_memory_wins_over_any_upstash_settings() {
    let forced = choose(&with(&[("WAIT_UNTIL_STORE", "memory"), ("VERCEL", "1")]));
    assert!(matches!(forced.store, Store::Memory(_)));
    assert!(forced.notes.is_empty(), "{:?}", forced.notes);
    // Even settings that could not be used do not stand in its way.
    let odd_url = choose(&[
        ("KV_REST_API_URL", "redis://x:6379"),
        ("KV_REST_API_TOKEN", "w"),
        ("WAIT_UNTIL_STORE", "memory"),
    ]);
    assert!(matches!(odd_url.store, Store::Memory(_)));
    assert_eq!(odd_url.why, "WAIT_UNTIL_STORE=memory");
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
    assert_eq!(c.why, "WAIT_UNTIL_STORE=upstash");
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
    let from_file = from_tables(&SETTINGS, &[("WAIT_UNTIL_KEY", "from-file")]);
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
            assert_eq!(c.why, "the Upstash settings cannot be used", "{vars:?}");
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
    assert!(!format!("{c:?}").contains("s3cret"), "{c:?}");
    let shown = format!("{:?}", upstash(&c));
    assert_eq!(
        shown,
        "UpstashStore { url: \"https://x.upstash.io\", \
         write: <redacted> (KV_REST_API_TOKEN in the environment), \
         read: <redacted> (KV_REST_API_READ_ONLY_TOKEN in the environment), \
         key: \"requests:newest\" }"
    );
}

#[test]
fn an_unreadable_env_local_is_the_problem_when_the_environment_sets_nothing() {
    let problem = ".env.local is not a regular file: fix or remove it";
    let unreadable = EnvFile {
        problem: Some(problem.into()),
        ..EnvFile::default()
    };
    let with_file = |vars: &[(&str, &str)]| Config::from_sources(&|n| lookup(vars, n), &unreadable);
    let c = with_file(&[]);
    assert_eq!(unconfigured(&c), problem);
    assert!(c.notes.is_empty(), "said once: {:?}", c.notes);
    // Also when Upstash is asked for: the file is what to fix, not a variable to set.
    assert_eq!(
        unconfigured(&with_file(&[("WAIT_UNTIL_STORE", "upstash")])),
        problem
    );
    // With settings in the environment the file does not matter, but it is still said.
    let c = with_file(&SETTINGS);
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

// ---- Reading .env.local ----

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("env-file-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn problem(file: &EnvFile) -> &str {
    file.problem
        .as_deref()
        .unwrap_or_else(|| panic!("no problem in {file:?}"))
}

#[test]
fn a_missing_file_is_nothing_to_say() {
    let file = EnvFile::read(&scratch_dir("missing").join(".env.local"));
    assert!(file.vars.is_empty() && file.notes.is_empty() && file.problem.is_none());
}

/// Only a file that is not there is "no file": a path that cannot be looked up is a problem.
#[test]
fn a_path_that_cannot_be_looked_up_is_a_problem_not_a_missing_file() {
    let dir = scratch_dir("not-a-dir");
    std::fs::write(dir.join("file"), "").unwrap();
    let file = EnvFile::read(&dir.join("file").join(".env.local"));
    assert!(problem(&file).contains("cannot be read"), "{file:?}");
}

/// As dotenv tools do: a name given twice keeps its last value, so a token appended to the file
/// replaces the old one.
#[test]
fn a_repeated_name_keeps_its_last_value() {
    let path = scratch_dir("repeated").join(".env.local");
    std::fs::write(&path, "KV_REST_API_TOKEN=old\nKV_REST_API_TOKEN=new\n").unwrap();
    assert_eq!(EnvFile::read(&path).vars["KV_REST_API_TOKEN"], "new");
}

#[test]
fn the_bound_is_the_one_the_message_names() {
    assert_eq!(MAX_ENV_FILE_BYTES, 1024 * 1024, "the message says 1 MiB");
    assert!(TOO_LARGE.contains("1 MiB"));
}

#[test]
fn a_pulled_file_is_read_with_its_quotes_and_escapes() {
    let path = scratch_dir("pulled").join(".env.local");
    let text =
        "# Created by Vercel CLI\nKV_REST_API_URL=\"https://x\"\nKV_REST_API_TOKEN=\"w\\n\"\n";
    std::fs::write(&path, text).unwrap();
    let file = EnvFile::read(&path);
    assert_eq!(file.vars["KV_REST_API_URL"], "https://x");
    assert_eq!(
        file.vars["KV_REST_API_TOKEN"], "w\n",
        "trimming is the settings' job"
    );
    assert!(file.notes.is_empty() && file.problem.is_none(), "{file:?}");
}

#[test]
fn lines_that_are_not_settings_are_skipped_counted_and_never_shown() {
    let path = scratch_dir("malformed").join(".env.local");
    let text = "# a comment\nKV_REST_API_URL=\"https://x\"\nnot a s3cret setting\n\
                KV_REST_API_TOKEN='w'\n=s3cret\n";
    std::fs::write(&path, text).unwrap();
    let file = EnvFile::read(&path);
    assert_eq!(file.vars["KV_REST_API_URL"], "https://x");
    assert_eq!(file.vars["KV_REST_API_TOKEN"], "w");
    assert_eq!(
        file.notes,
        [format!(
            "{}: 2 line(s) are not NAME=value and were skipped",
            path.display()
        )]
    );
    assert!(file.problem.is_none());
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_name() {
    let path = scratch_dir("bom").join(".env.local");
    std::fs::write(&path, "\u{feff}KV_REST_API_URL=https://x\n").unwrap();
    let file = EnvFile::read(&path);
    assert_eq!(file.vars["KV_REST_API_URL"], "https://x");
    assert!(file.notes.is_empty(), "{file:?}");
}

/// What must never block or fill memory at start-up: each is refused before it is opened.
#[test]
fn what_is_not_a_regular_file_is_refused_unread() {
    let dir = scratch_dir("special");
    let directory = dir.join("directory");
    std::fs::create_dir_all(&directory).unwrap();
    let zero = dir.join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    for path in [directory, zero, fifo] {
        let file = EnvFile::read(&path);
        assert!(
            problem(&file).ends_with("is not a regular file: fix or remove it"),
            "{file:?}"
        );
        assert!(file.vars.is_empty());
    }
}

/// The bound is exact: a file of exactly 1 MiB is read whole, up to its last byte.
#[test]
fn a_file_of_exactly_the_bound_is_read_to_its_end() {
    let path = scratch_dir("exact").join(".env.local");
    let last = "KV_REST_API_TOKEN=the-end";
    let padding = MAX_ENV_FILE_BYTES as usize - last.len();
    let text = format!("#{}\n{last}", "x".repeat(padding - 2));
    assert_eq!(text.len() as u64, MAX_ENV_FILE_BYTES);
    std::fs::write(&path, text).unwrap();
    let file = EnvFile::read(&path);
    assert!(file.problem.is_none(), "{file:?}");
    assert_eq!(file.vars["KV_REST_API_TOKEN"], "the-end");
}

/// What is read is bounded too, whatever size the file reported: one byte past the bound is
/// found and refused, never cut off and taken as the whole file.
#[test]
fn text_read_past_the_bound_is_refused_whatever_the_file_said_its_size_was() {
    let exactly = std::io::repeat(b'#').take(MAX_ENV_FILE_BYTES);
    assert_eq!(
        read_bounded(exactly).map(|text| text.len()),
        Ok(MAX_ENV_FILE_BYTES as usize)
    );
    let endless = std::io::repeat(b'#');
    assert_eq!(read_bounded(endless), Err(TOO_LARGE));
}

#[test]
fn a_file_too_large_or_not_text_is_refused_whole() {
    let dir = scratch_dir("large");
    let large = dir.join("large");
    std::fs::write(&large, vec![b'#'; MAX_ENV_FILE_BYTES as usize + 1]).unwrap();
    assert!(problem(&EnvFile::read(&large)).contains("over 1 MiB"));
    let binary = dir.join("binary");
    std::fs::write(
        &binary,
        b"KV_REST_API_URL=https://x\nKV_REST_API_TOKEN=\xff\xfe\n",
    )
    .unwrap();
    let file = EnvFile::read(&binary);
    assert!(problem(&file).contains("is not UTF-8 text"), "{file:?}");
    assert!(file.vars.is_empty());
}
