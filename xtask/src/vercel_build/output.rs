//! Checks on `.vercel/output`, the Build Output API v3 tree that `deploy --prebuilt` uploads.
//!
//! - Routes are resolved as Vercel does for a `routes` table: the first route whose `src`
//!   matches wins, `$1` in its `dest` is the first capture. A feature this model does not cover
//!   (`handle` phases, `continue`) fails the check rather than being guessed at.
//! - Every `/api/*` path, an unknown one included, must reach the one function; `/` and
//!   `/index.html` must reach a static file that exists, with the page's security headers on
//!   their route (the page is a static file on Vercel: only `config.json` can give it headers).
//! - Exactly one function, `.vc-config.json` as a Rust executable function should be, and its
//!   executable an x86-64 ELF inside the project (`deploy --prebuilt` uploads files from
//!   `filePathMap` and refuses any outside the project).

use super::read_json;
use crate::run::Result;
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The one function: `builds[0].src` of `vercel.json`, which the CLI keeps as the name.
const FUNCTION: &str = "/api/main.rs";

/// Paths that must reach the function: every route, the check's own `api/hello.rs`, unknown and
/// nested paths (the function answers their 404), and `/api` itself (an `api/index.rs` route).
const API_PATHS: [&str; 7] = [
    "/api",
    "/api/wait-until",
    "/api/recent",
    "/api/source",
    "/api/hello",
    "/api/x",
    "/api/a/b",
];

/// Paths that must reach a static file, and the file.
const STATIC_PATHS: [(&str, &str); 2] = [
    ("/", "/public/index.html"),
    ("/index.html", "/public/index.html"),
];

/// Response headers, names in lower case.
pub type Headers = BTreeMap<String, String>;

/// What a check of the output found: the function's executable, and the headers the page's
/// route gives it on Vercel (the probes hold the function's own answers to them).
pub struct Verified {
    pub executable: PathBuf,
    pub page_headers: Headers,
}

/// What the page's headers must hold whatever else changes: the deployment's promise.
const PAGE_MUST: [(&str, &str); 7] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("content-security-policy", "default-src 'none'"),
    ("content-security-policy", "script-src 'sha256-"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("content-security-policy", "base-uri 'none'"),
    ("referrer-policy", ""),
];

/// Verifies the output of `vercel build` in `project`.
pub fn verify(project: &Path) -> Result<Verified> {
    let output = project.join(".vercel/output");
    let config = read_json(&output.join("config.json"))?;
    if config["version"] != 3 {
        return Err(format!("config.json: version {}, not 3", config["version"]));
    }
    for path in API_PATHS {
        expect_route(&config, path, FUNCTION)?;
    }
    let mut page_headers = None;
    for (path, file) in STATIC_PATHS {
        expect_route(&config, path, file)?;
        if !output.join("static").join(&file[1..]).is_file() {
            return Err(format!(
                "{path} is routed to {file}, which is not in static/"
            ));
        }
        let headers = expect_page_headers(&config, path)?;
        match &page_headers {
            Some(first) if *first != headers => {
                return Err(format!(
                    "config.json gives {path} other headers than {}: {headers:?}",
                    STATIC_PATHS[0].0
                ));
            }
            _ => page_headers = Some(headers),
        }
    }

    let functions = find_functions(&output.join("functions"))?;
    let expected = format!("{}.func", &FUNCTION[1..]);
    if functions != [expected.as_str()] {
        return Err(format!(
            "expected exactly one function, {expected}; found {functions:?}"
        ));
    }
    let vc_config = read_json(
        &output
            .join("functions")
            .join(&expected)
            .join(".vc-config.json"),
    )?;
    for (key, wanted) in [
        ("runtime", "executable"),
        ("runtimeLanguage", "rust"),
        ("architecture", "x86_64"),
    ] {
        if vc_config[key] != wanted {
            return Err(format!(
                ".vc-config.json: {key} is {}, not {wanted:?}",
                vc_config[key]
            ));
        }
    }
    if !vc_config["maxDuration"].is_u64() {
        return Err(".vc-config.json: no maxDuration (vercel.json builds[0].config)".into());
    }
    let executable = vc_config["filePathMap"]["executable"]
        .as_str()
        .map(|relative| project.join(relative))
        .ok_or(".vc-config.json: no filePathMap.executable")?;
    expect_inside(project, &executable)?;
    expect_x86_64_elf(&executable)?;
    Ok(Verified {
        executable,
        page_headers: page_headers.unwrap_or_default(),
    })
}

/// The headers of the route that serves `path`, which must hold [`PAGE_MUST`].
fn expect_page_headers(config: &Value, path: &str) -> Result<Headers> {
    let headers: Headers = match resolve_route(config, path)? {
        Some((route, _)) => route["headers"]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(name, value)| {
                        let value = value.as_str().unwrap_or_default().to_owned();
                        (name.to_ascii_lowercase(), value)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        None => Headers::new(),
    };
    for (name, part) in PAGE_MUST {
        if !headers
            .get(name)
            .is_some_and(|v| !v.is_empty() && v.contains(part))
        {
            return Err(format!(
                "config.json: the route of {path} gives the page no {name} holding {part:?} \
                 (vercel.json's routes to public/ carry the page's headers): {headers:?}"
            ));
        }
    }
    Ok(headers)
}

/// `path` must be sent to `dest` by the routes of `config`.
fn expect_route(config: &Value, path: &str, dest: &str) -> Result {
    match resolve(config, path)? {
        Some(found) if found == dest => Ok(()),
        found => Err(format!(
            "config.json routes {path} to {}, not {dest}",
            found.as_deref().unwrap_or("nothing")
        )),
    }
}

/// Where the first matching route sends `path`, with its captures filled in.
fn resolve(config: &Value, path: &str) -> Result<Option<String>> {
    Ok(resolve_route(config, path)?.and_then(|(_, dest)| dest))
}

/// The first route that matches `path`, and its `dest` with the captures filled in.
fn resolve_route<'a>(config: &'a Value, path: &str) -> Result<Option<(&'a Value, Option<String>)>> {
    let routes = config["routes"]
        .as_array()
        .ok_or("config.json has no routes")?;
    for route in routes {
        if route.get("handle").is_some() || route["continue"] == true {
            return Err(format!(
                "config.json has a route this check does not model: {route}"
            ));
        }
        let src = route["src"]
            .as_str()
            .ok_or_else(|| format!("config.json: a route without src: {route}"))?;
        let pattern = Regex::new(src).map_err(|e| format!("route src {src:?}: {e}"))?;
        if let Some(captures) = pattern.captures(path) {
            let dest = route["dest"].as_str().map(|dest| {
                let mut resolved = String::new();
                captures.expand(dest, &mut resolved);
                resolved
            });
            return Ok(Some((route, dest)));
        }
    }
    Ok(None)
}

/// Every `*.func` folder under `functions`, as a path relative to it (none if it is missing).
fn find_functions(functions: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    if !functions.exists() {
        return Ok(found);
    }
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

/// What `deploy --prebuilt` demands of a `filePathMap` file: its real path is in the project.
fn expect_inside(project: &Path, file: &Path) -> Result {
    let real = |path: &Path| {
        path.canonicalize()
            .map_err(|e| format!("the executable {path:?}: {e}"))
    };
    if real(file)?.starts_with(real(project)?) {
        Ok(())
    } else {
        Err(format!(
            "{file:?} resolves outside the project: `vercel deploy --prebuilt` would refuse it"
        ))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(routes: Value) -> Value {
        json!({ "version": 3, "routes": routes })
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
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
    fn captures_fill_the_destination() {
        let routes = config(json!([{"src": "^/(.*)$", "dest": "/public/$1"}]));
        assert_eq!(
            expect_route(&routes, "/index.html", "/public/index.html"),
            Ok(())
        );
        assert!(expect_route(&routes, "/index.html", "/public/$1").is_err());
    }

    #[test]
    fn routes_the_check_cannot_model_fail_it() {
        for route in [
            json!({"handle": "filesystem"}),
            json!({"src": "^/(.*)$", "continue": true}),
        ] {
            let routes = config(json!([route, {"src": "^/(.*)$", "dest": "/api/main.rs"}]));
            assert!(
                expect_route(&routes, "/api/x", "/api/main.rs").is_err(),
                "{route}"
            );
        }
    }

    #[test]
    fn the_page_route_must_carry_the_security_headers() {
        let csp =
            "default-src 'none'; script-src 'sha256-x='; base-uri 'none'; frame-ancestors 'none'";
        let good = json!({
            "x-content-type-options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "content-security-policy": csp,
            "x-frame-options": "DENY"
        });
        let with = |headers: Value| {
            config(json!([
                {"src": "^/api(/.*)?$", "dest": "/api/main.rs"},
                {"src": "^/$", "dest": "/public/index.html", "headers": headers}
            ]))
        };
        let found = expect_page_headers(&with(good.clone()), "/").unwrap();
        assert_eq!(
            found["referrer-policy"], "no-referrer",
            "names are lower-cased"
        );
        for (name, value) in [
            ("x-content-type-options", json!("sniff")),
            ("x-frame-options", json!("")),
            (
                "content-security-policy",
                json!("default-src 'none'; script-src 'unsafe-inline'"),
            ),
            ("referrer-policy", json!("")),
        ] {
            let mut bad = good.clone();
            bad[name] = value;
            assert!(expect_page_headers(&with(bad), "/").is_err(), "{name}");
        }
        let without = config(json!([{"src": "^/$", "dest": "/public/index.html"}]));
        assert!(expect_page_headers(&without, "/").is_err());
    }

    #[test]
    fn only_an_x86_64_elf_passes() {
        let dir = scratch("elf");
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
    fn an_executable_linked_from_outside_the_project_fails() {
        let dir = scratch("inside");
        let (project, elsewhere) = (dir.join("project"), dir.join("elsewhere"));
        std::fs::create_dir_all(project.join("target")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(project.join("target/main"), "").unwrap();
        std::fs::write(elsewhere.join("main"), "").unwrap();
        std::os::unix::fs::symlink(&elsewhere, project.join("linked")).unwrap();
        assert_eq!(
            expect_inside(&project, &project.join("target/main")),
            Ok(())
        );
        assert!(expect_inside(&project, &project.join("linked/main")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_function_folder_is_found() {
        let dir = scratch("funcs");
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
