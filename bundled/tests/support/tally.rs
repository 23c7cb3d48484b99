//! How often a property's assertion ran, checked: a property proves something only on the cases
//! that reach its assertion. One written `if let Some(record) = parse(random_text) { assert… }`
//! passes while asserting nothing, because random text almost never parses; one that rejects
//! most of its inputs with `prop_assume!` likewise.
//!
//! So each property returns the branch its case reached (`Ok("accepted")`, `Ok("refused")`), and
//! [`Property::check`] counts them over the run and then fails unless each branch it was told
//! about was reached by at least its share of the cases: [`MOST`] for the branch that holds the
//! assertion, [`SOME`] for each of several outcomes that must all be exercised, [`FEW`] for each
//! of many (every route of a table). Cases rejected with `prop_assume!` count, as `rejected`. A
//! branch name misspelt on either side is reached by no case, and fails too. The shares reached
//! are printed, seen with `-- --nocapture`.
//!
//! A case may reach several branches at once, one per aspect a property tallies (whether the
//! list was cut, and which digits decided an order): it returns them all (`Ok(vec!["cut", …])`),
//! and each is counted once for that case. Shares are still of the cases run, so they need not
//! add up to one.
//!
//! The shares are fractions of the run, so `PROPTEST_CASES` leaves them as they are (it may
//! raise the number of cases, not lower it: a share of a few cases says little). Generators are
//! random, so each required share sits well below the share its generator gives: five standard
//! deviations or more at the number of cases run, so that a branch falls short by chance less
//! than once in a million runs.
//!
//! It lives here, with the crate that publishes it in its package, so `bundled_api`'s tests run
//! from the package alone. The app's `tests/it/properties.rs` uses the same file through
//! `#[path]`, so both suites hold to the same rule.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner, contextualize_config};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// At least half of the cases: for the branch that holds a property's assertion.
pub const MOST: f64 = 0.5;
/// At least one case in twenty: for each outcome that must be exercised.
pub const SOME: f64 = 0.05;
/// At least one case in a hundred: for each of many outcomes (every route of a table).
pub const FEW: f64 = 0.01;

/// The branches one case reached: one, or several (one per aspect a property tallies).
pub trait Branches {
    fn each(self) -> Vec<&'static str>;
}

impl Branches for &'static str {
    fn each(self) -> Vec<&'static str> {
        vec![self]
    }
}

impl Branches for Vec<&'static str> {
    fn each(self) -> Vec<&'static str> {
        self
    }
}

/// What cases rejected with `prop_assume!` count as.
const REJECTED: &str = "rejected";

/// A property to run on `cases` inputs, with the share of them each named branch must reach.
#[must_use = "a property runs only when checked"]
pub struct Property {
    cases: u32,
    least: Vec<(f64, &'static str)>,
}

impl Property {
    pub fn cases(cases: u32) -> Self {
        Self {
            cases,
            least: Vec::new(),
        }
    }

    /// Requires `branch` to be reached by at least `share` of the cases.
    pub fn at_least(mut self, share: f64, branch: &'static str) -> Self {
        self.least.push((share, branch));
        self
    }

    /// Runs `property` on inputs from `inputs`: panics on its first failure, with the minimal
    /// failing input, like `proptest!`; then panics if a branch was reached too rarely.
    #[track_caller]
    pub fn check<S: Strategy, B: Branches>(
        self,
        inputs: S,
        property: impl Fn(S::Value) -> Result<B, TestCaseError>,
    ) {
        if let Err(why) = self.run(inputs, property) {
            panic!("{why}");
        }
    }

    /// What [`Property::check`] does, with the reason it would panic as an error instead.
    fn run<S: Strategy, B: Branches>(
        self,
        inputs: S,
        property: impl Fn(S::Value) -> Result<B, TestCaseError>,
    ) -> Result<(), String> {
        let tally = RefCell::new(BTreeMap::<&'static str, u32>::new());
        let cases = Cell::new(0u32);
        // Each branch once per case, however often the case names it.
        let count = |branches: Vec<&'static str>| {
            cases.set(cases.get() + 1);
            let mut tally = tally.borrow_mut();
            for branch in branches.into_iter().collect::<BTreeSet<_>>() {
                *tally.entry(branch).or_default() += 1;
            }
        };
        let config = contextualize_config(Config {
            // Nothing is persisted: proptest finds no crate root above `tests/`.
            failure_persistence: None,
            ..Config::default()
        });
        // `PROPTEST_CASES` may ask for more cases, never fewer: the shares need them. (Not
        // `config.cases`: without the variable that is proptest's default, 256, which would
        // raise a property that asks for fewer.)
        let asked = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse::<u32>().ok());
        let mut runner = TestRunner::new(Config {
            cases: asked.map_or(self.cases, |asked| asked.max(self.cases)),
            ..config
        });
        let result = runner.run(&inputs, |input| match property(input) {
            Ok(branches) => {
                count(branches.each());
                Ok(())
            }
            Err(reject @ TestCaseError::Reject(_)) => {
                count(vec![REJECTED]);
                Err(reject)
            }
            Err(failure) => Err(failure),
        });
        // Shrinking ran the property again: the tally of a failed run means nothing.
        result.map_err(|error| format!("{error}\n{runner}"))?;
        let tally = tally.into_inner();
        let total = cases.get();
        let test = std::thread::current().name().unwrap_or("?").to_string();
        let shares: Vec<String> = tally
            .iter()
            .map(|(branch, n)| format!("{branch} {n}/{total}"))
            .collect();
        let shares = shares.join(", ");
        println!("{test}: {shares}");
        for (share, branch) in self.least {
            let reached = tally.get(branch).copied().unwrap_or(0);
            if f64::from(reached) < share * f64::from(total) {
                return Err(format!(
                    "{test}: {branch:?} reached by {reached} of {total} cases, under the {:.0}% \
                     required (reached: {shares}): the generator rarely builds inputs for it",
                    share * 100.0,
                ));
            }
        }
        Ok(())
    }
}

/// The mechanism fails on the properties it is there to catch, so it cannot pass silently.
/// Through [`Property::run`], so that these failures cost no panic (nor, with
/// `RUST_BACKTRACE` set, a backtrace each); one test checks that `check` panics on them. The
/// messages are matched without their numbers, which `PROPTEST_CASES` may change.
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Why `property` fails; panics if it passes.
    fn failure<S: Strategy, B: Branches>(
        property: Property,
        inputs: S,
        body: impl Fn(S::Value) -> Result<B, TestCaseError>,
    ) -> String {
        property.run(inputs, body).expect_err("the property passed")
    }

    #[test]
    #[should_panic(expected = "\"accepted\" reached by 0 of")]
    fn a_property_whose_assertion_never_runs_fails() {
        Property::cases(64)
            .at_least(MOST, "accepted")
            .check(any::<u8>(), |_| Ok("refused"));
    }

    #[test]
    fn a_property_whose_assertion_runs_on_a_few_cases_fails() {
        let property = Property::cases(512).at_least(MOST, "accepted");
        let why = failure(property, any::<u8>(), |n| {
            Ok(if n < 16 { "accepted" } else { "refused" })
        });
        assert!(why.contains("\"accepted\" reached by"), "{why}");
        assert!(why.contains("cases, under the 50% required"), "{why}");
    }

    #[test]
    fn a_property_that_rejects_most_of_its_inputs_fails() {
        let property = Property::cases(64).at_least(MOST, "checked");
        let why = failure(property, any::<u8>(), |n| {
            prop_assume!(n < 64);
            Ok("checked")
        });
        // With many more cases (`PROPTEST_CASES`), proptest's own bound on rejects stops it first.
        let too_rare = why.contains("\"checked\" reached by") && why.contains("rejected");
        assert!(too_rare || why.contains("Too many global rejects"), "{why}");
    }

    #[test]
    fn a_property_missing_one_of_its_outcomes_fails() {
        let property = Property::cases(64)
            .at_least(MOST, "accepted")
            .at_least(SOME, "refused");
        let why = failure(property, any::<u8>(), |_| Ok("accepted"));
        assert!(why.contains("\"refused\" reached by 0 of"), "{why}");
        assert!(why.contains("cases, under the 5% required"), "{why}");
    }

    #[test]
    fn a_failing_case_fails_with_its_minimal_input() {
        let why = failure(Property::cases(512), any::<u8>(), |n| {
            prop_assert!(n < 10);
            Ok("checked")
        });
        assert!(why.contains("minimal failing input: 10"), "{why}");
    }

    /// Branches of two aspects: each counts once per case that names it, as a share of the
    /// cases (not of the branches named), and a rare one fails as a single branch does.
    #[test]
    fn each_branch_a_case_reached_counts() {
        let both = |n: u8| -> Result<Vec<&'static str>, TestCaseError> {
            let size = if n < 128 { "small" } else { "large" };
            let mut reached = vec![size, "checked", "checked"];
            if n < 4 {
                reached.push("tiny");
            }
            Ok(reached)
        };
        Property::cases(512)
            .at_least(MOST, "checked")
            .at_least(0.3, "small")
            .at_least(0.3, "large")
            .check(any::<u8>(), both);
        let property = Property::cases(512)
            .at_least(MOST, "checked")
            .at_least(SOME, "tiny");
        let why = failure(property, any::<u8>(), both);
        assert!(why.contains("\"tiny\" reached by"), "{why}");
        // Named twice, counted once: every case, not two per case.
        let runs = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse::<u32>().ok())
            .map_or(512, |asked| asked.max(512));
        assert!(why.contains(&format!("checked {runs}/{runs}")), "{why}");
    }

    #[test]
    fn a_property_reaching_its_shares_passes() {
        Property::cases(512)
            .at_least(MOST, "high")
            .at_least(SOME, "low")
            .at_least(FEW, "zero")
            .check(prop_oneof![1 => Just(0u8), 9 => any::<u8>()], |n| {
                Ok(match n {
                    0 => "zero",
                    1..64 => "low",
                    _ => "high",
                })
            });
    }
}
