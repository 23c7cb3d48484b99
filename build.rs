//! `#[bundled_api]` reads `api/` at compile time, but a proc macro cannot tell Cargo which
//! folders it read. This makes adding or removing a route file rebuild the function.

fn main() {
    println!("cargo:rerun-if-changed=api");
}
