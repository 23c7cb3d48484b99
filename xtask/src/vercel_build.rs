//! `cargo xtask vercel-build`: not written yet (issue: deploys on Vercel).

use crate::run::Result;

pub fn run() -> Result {
    Err("not implemented yet".into())
}
