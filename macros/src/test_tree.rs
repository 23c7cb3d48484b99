//! Route trees on disk for the unit tests, which point the walk and the expansion at them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A route file with the contract's handler.
pub const HANDLER: &str = "pub async fn handler(req: Request, state: AppState) -> R { todo!() }";

/// A fresh crate root under the temporary folder holding `files` (paths from that root, each
/// [`HANDLER`]). Each call gets a folder of its own (the process and a count): tests run in
/// parallel, several with the same files, and each removes its folder when done.
pub fn tree(files: &[&str]) -> PathBuf {
    static MADE: AtomicUsize = AtomicUsize::new(0);
    let root = std::env::temp_dir().join(format!(
        "bundled-macros-{}-{}",
        std::process::id(),
        MADE.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&root);
    for file in files {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, HANDLER).unwrap();
    }
    root
}
