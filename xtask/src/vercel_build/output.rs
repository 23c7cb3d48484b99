//! Checks on `.vercel/output`, the Build Output API v3 tree that `deploy --prebuilt` uploads.

use crate::run::Result;
use regex::Regex;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The one function; every `/api/*` path must reach it.
const FUNCTION: &str = "api/main.rs.func";
const FUNCTION_DEST: &str = "/api/main.rs";

/// Verifies the output of `vercel build` in `project`; returns the function's executable.
pub fn verify(project: &Path) -> Result<PathBuf> {
    let output = project.join(".vercel/output");
    let config = read_json(&output.join("config.json"))?;
    for path in [
        "/api/wait-until",
        "/api/recent",
        "/api/x",
        "/api/hello",
        "/api/a/b",
    ] {
        expect_route(&config, path, FUNCTION_DEST)?;
    }
    expect_route(&config, "/", "/public/index.html")?;
    if !output.join("static/public/index.html").is_file() {
        return Err("static/public/index.html is missing from the output".into());
    }

    let functions = find_functions(&output.join("functions"))?;
    if functions != [FUNCTION] {
        return Err(format!(
            "expected exactly one function, {FUNCTION}; found {functions:?}"
        ));
    }
    let vc_config = read_json(
        &output
            .join("functions")
            .join(FUNCTION)
            .join(".vc-config.json"),
    )?;
    for (key, expected) in [
        ("runtime", "executable"),
        ("runtimeLanguage", "rust"),
        ("architecture", "x86_64"),
    ] {
        if vc_config[key] != expected {
            return Err(format!(
                ".vc-config.json: {key} is {}, not {expected:?}",
                vc_config[key]
            ));
        }
    }
    if !vc_config["maxDuration"].is_u64() {
        return Err(
            ".vc-config.json: maxDuration is not set (vercel.json builds[0].config)".into(),
        );
    }
    let executable = vc_config["filePathMap"]["executable"]
        .as_str()
        .map(|relative| project.join(relative))
        .ok_or(".vc-config.json: no filePathMap.executable")?;
    expect_x86_64_elf(&executable)?;
    Ok(executable)
}

/// The first route whose `src` matches `path` must send it to `dest`.
fn expect_route(config: &Value, path: &str, dest: &str) -> Result {
    let routes = config["routes"]
        .as_array()
        .ok_or("config.json has no routes")?;
    for route in routes {
        let Some(src) = route["src"].as_str() else {
            continue;
        };
        let pattern = Regex::new(src).map_err(|e| format!("route src {src:?}: {e}"))?;
        if pattern.is_match(path) {
            return match route["dest"].as_str() {
                Some(found) if found == dest => Ok(()),
                found => Err(format!("{path} is routed to {found:?}, not {dest}")),
            };
        }
    }
    Err(format!("no route in config.json matches {path}"))
}

/// Every `*.func` folder under `functions`, as a path relative to it.
fn find_functions(functions: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![functions.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot list {dir:?}: {e}"))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "func") {
                let relative = path.strip_prefix(functions).unwrap_or(&path);
                found.push(relative.to_string_lossy().into_owned());
            } else if path.is_dir() {
                pending.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// ELF magic, 64-bit class, machine x86-64 (62): what a Vercel x86_64 function runs.
fn expect_x86_64_elf(path: &Path) -> Result {
    let bytes = std::fs::read(path).map_err(|e| format!("the executable {path:?}: {e}"))?;
    let machine = bytes.get(18..20).map(|m| u16::from_le_bytes([m[0], m[1]]));
    if bytes.starts_with(b"\x7fELF") && bytes.get(4) == Some(&2) && machine == Some(62) {
        Ok(())
    } else {
        Err(format!("{path:?} is not an x86-64 ELF executable"))
    }
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path:?}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path:?} is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(routes: Value) -> Value {
        json!({ "version": 3, "routes": routes })
    }

    #[test]
    fn the_first_matching_route_decides() {
        let good = config(json!([
            {"src": "^/api/(.*)$", "dest": "/api/main.rs"},
            {"src": "^/(.*)$", "dest": "/public/$1"}
        ]));
        assert_eq!(expect_route(&good, "/api/x", "/api/main.rs"), Ok(()));
        let shadowed = config(json!([
            {"src": "^/(.*)$", "dest": "/public/$1"},
            {"src": "^/api/(.*)$", "dest": "/api/main.rs"}
        ]));
        assert!(expect_route(&shadowed, "/api/x", "/api/main.rs").is_err());
        assert!(expect_route(&config(json!([])), "/", "/public/index.html").is_err());
    }

    #[test]
    fn only_an_x86_64_elf_passes() {
        let dir = std::env::temp_dir().join(format!("xtask-elf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(18, 0);
        let cases = [([62u8, 0], true), ([183, 0], false)]; // x86-64, aarch64
        for (machine, ok) in cases {
            let mut bytes = elf.clone();
            bytes.extend(machine);
            std::fs::write(dir.join("bin"), &bytes).unwrap();
            assert_eq!(
                expect_x86_64_elf(&dir.join("bin")).is_ok(),
                ok,
                "{machine:?}"
            );
        }
        std::fs::write(dir.join("bin"), "#!/bin/sh\n").unwrap();
        assert!(expect_x86_64_elf(&dir.join("bin")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_function_folder_is_found() {
        let dir = std::env::temp_dir().join(format!("xtask-funcs-{}", std::process::id()));
        for func in ["api/main.rs.func", "api/recent.func"] {
            std::fs::create_dir_all(dir.join(func)).unwrap();
        }
        assert_eq!(
            find_functions(&dir).unwrap(),
            ["api/main.rs.func", "api/recent.func"]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
