//! `#[bundled_api]` reads `api/` at compile time, but a proc macro cannot tell Cargo which
//! folders it read: without this, adding or removing a route file would not rebuild.

fn main() {
    println!("cargo:rerun-if-changed=api");
}
