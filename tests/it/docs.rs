//! The docs' numbers are the code's: each figure a user may rely on is read from the code here
//! and must appear as written in the document that holds it (README.md, GUIDE.md or
//! TESTING.md), so changing one without the other fails.

use crate::hostile::CASES;
use wait_until::app::writer_config as config;
use wait_until::record::{MAX_STORED_BYTES, MAX_USER_AGENT_CHARS};
use wait_until::store::KEEP;

/// A document, with every run of whitespace (line breaks included) made one space.
struct Doc {
    name: &'static str,
    text: String,
}

impl Doc {
    fn new(name: &'static str, text: &str) -> Self {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Doc { name, text }
    }

    #[track_caller]
    fn says(&self, phrase: &str) {
        assert!(
            self.text.contains(phrase),
            "{} should say {phrase:?}",
            self.name
        );
    }
}

fn readme() -> Doc {
    Doc::new("README.md", include_str!("../../README.md"))
}

fn guide() -> Doc {
    Doc::new("GUIDE.md", include_str!("../../GUIDE.md"))
}

fn testing() -> Doc {
    Doc::new("TESTING.md", include_str!("../../TESTING.md"))
}

#[test]
fn the_write_queue_limits_are_the_code_s() {
    let (guide, limits) = (guide(), config(true));
    guide.says(&format!(
        "at most **{} records** per call",
        limits.max_batch
    ));
    guide.says(&format!("**{} records** wait", limits.max_queued));
    guide.says(&format!(
        "waited over **{} s** for its turn",
        limits.max_wait.as_secs()
    ));
}

#[test]
fn the_retry_policy_is_the_code_s() {
    let (guide, config) = (guide(), config(true));
    let policy = config.retry;
    guide.says(&format!("at most **{} attempts**", policy.max_attempts));
    let waits: Vec<String> = (0..policy.max_attempts - 1)
        .map(|n| (policy.base_delay * (1 << n)).as_millis().to_string())
        .collect();
    guide.says(&format!("waits of up to **{} ms**", waits.join(", ")));
    guide.says(&format!(
        "no new attempt after **{} s**",
        policy.deadline.as_secs()
    ));
    let longest = policy.longest_write();
    guide.says(&format!("a write ends within **{} s**", longest.as_secs()));
    guide.says(&format!(
        "**every record settles within {} s**",
        config.settle_bound().as_secs()
    ));
}

#[test]
fn the_record_rules_are_the_code_s() {
    readme().says(&format!("so the {KEEP} newest stay"));
    let guide = guide();
    guide.says(&format!("cut to {MAX_USER_AGENT_CHARS} characters"));
    guide.says(&format!("over {} KiB", MAX_STORED_BYTES / 1024));
}

#[test]
fn overload_grouping_is_the_code_s() {
    let (guide, grouping) = (guide(), config(true));
    assert_eq!(
        grouping.overflow_window.as_secs(),
        1,
        "GUIDE.md says 'within one second'"
    );
    guide.says("every record refused within one second");
    guide.says(&format!(
        "up to {} KiB of records",
        grouping.overflow_max_bytes / 1024
    ));
}

#[test]
fn the_hostile_case_count_is_the_suite_s() {
    let total: usize = CASES.iter().map(|(_, cases)| cases).sum();
    testing().says(&format!(
        "sends {total} raw requests built like an attacker's, in {} concerns",
        CASES.len()
    ));
}

#[test]
fn the_vercel_dev_file_is_the_code_s() {
    let readme = readme();
    readme.says(wait_until::store::file::DEV_PATH);
    readme.says("vercel dev --local");
}
