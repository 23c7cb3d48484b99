//! The README's numbers are the code's: each figure a user may rely on is read from the code
//! here and must appear in the README as written, so changing one without the other fails.

use crate::hostile::CASES;
use wait_until::app::writer_config as config;
use wait_until::record::{MAX_STORED_BYTES, MAX_USER_AGENT_CHARS};
use wait_until::store::KEEP;

/// The README with every run of whitespace (line breaks included) made one space.
fn readme() -> String {
    let text = include_str!("../../README.md");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[track_caller]
fn says(readme: &str, phrase: &str) {
    assert!(readme.contains(phrase), "README.md should say {phrase:?}");
}

#[test]
fn the_write_queue_limits_are_the_code_s() {
    let (readme, limits) = (readme(), config(true));
    says(
        &readme,
        &format!("at most **{} records** per call", limits.max_batch),
    );
    says(&readme, &format!("**{} records** wait", limits.max_queued));
    says(
        &readme,
        &format!(
            "waited over **{} s** for its turn",
            limits.max_wait.as_secs()
        ),
    );
}

#[test]
fn the_retry_policy_is_the_code_s() {
    let (readme, config) = (readme(), config(true));
    let policy = config.retry;
    says(
        &readme,
        &format!("at most **{} attempts**", policy.max_attempts),
    );
    let waits: Vec<String> = (0..policy.max_attempts - 1)
        .map(|n| (policy.base_delay * (1 << n)).as_millis().to_string())
        .collect();
    says(
        &readme,
        &format!("waits of up to **{} ms**", waits.join(", ")),
    );
    says(
        &readme,
        &format!("no new attempt after **{} s**", policy.deadline.as_secs()),
    );
    let longest = policy.longest_write();
    says(
        &readme,
        &format!("a write ends within **{} s**", longest.as_secs()),
    );
    says(
        &readme,
        &format!(
            "**every record settles within {} s**",
            config.settle_bound().as_secs()
        ),
    );
}

#[test]
fn the_record_rules_are_the_code_s() {
    let readme = readme();
    says(&readme, &format!("so the {KEEP} newest stay"));
    says(
        &readme,
        &format!("cut to {MAX_USER_AGENT_CHARS} characters"),
    );
    says(&readme, &format!("over {} KiB", MAX_STORED_BYTES / 1024));
}

#[test]
fn overload_grouping_is_the_code_s() {
    let (readme, grouping) = (readme(), config(true));
    assert_eq!(
        grouping.overflow_window.as_secs(),
        1,
        "the README says 'within one second'"
    );
    says(&readme, "every record refused within one second");
    says(
        &readme,
        &format!(
            "up to {} KiB of records",
            grouping.overflow_max_bytes / 1024
        ),
    );
}

#[test]
fn the_hostile_case_count_is_the_suite_s() {
    let readme = readme();
    let total: usize = CASES.iter().map(|(_, cases)| cases).sum();
    says(
        &readme,
        &format!(
            "sends {total} raw requests built like an attacker's, in {} concerns",
            CASES.len()
        ),
    );
}

/// The `build.rs` and `api/main.rs` the README shows for your own project are, line for line,
/// the ones in `bundled/README.md`, whose examples compile as the crate's doctests.
#[test]
fn the_own_project_snippets_are_the_crate_s_doctested_ones() {
    let readme = include_str!("../../README.md");
    let crate_readme = include_str!("../../bundled/README.md");
    for file in ["// build.rs\n", "// api/main.rs\n"] {
        let start = readme
            .find(&format!("```rust\n{file}"))
            .unwrap_or_else(|| panic!("README.md shows no {file:?} block"))
            + "```rust\n".len()
            + file.len();
        let length = readme[start..].find("```").expect("the block ends");
        let snippet = &readme[start..start + length];
        assert!(
            crate_readme.contains(snippet),
            "README.md's {file:?} differs from bundled/README.md's:\n{snippet}"
        );
    }
}

#[test]
fn the_vercel_dev_file_is_the_code_s() {
    let readme = readme();
    says(&readme, wait_until::store::file::DEV_PATH);
    says(&readme, "vercel dev --local");
}
