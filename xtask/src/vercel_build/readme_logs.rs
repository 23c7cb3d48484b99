//! The README's `vercel logs` command (the export that `replay` reads) must run with the pinned
//! CLI. The CLI changes its flags between versions (64.x refuses a bare deployment URL), so the
//! command is taken from the README itself and given to the pinned CLI.
//!
//! Offline there is no account, so it is run with a dummy token in an unlinked scratch folder:
//! a command the CLI accepts gets as far as asking for a linked project (`not_linked`); one it
//! refuses stops earlier with `invalid_arguments` (and a bare URL is checked to be refused that
//! way, so the check can tell the two apart).

use crate::run::{Result, root};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn check(vercel: &Path, scratch: &Path) -> Result {
    let readme = std::fs::read_to_string(root().join("README.md"))
        .map_err(|e| format!("cannot read README.md: {e}"))?;
    let args = readme_command(&readme)?;
    let folder = scratch.join("unlinked");
    std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {folder:?}: {e}"))?;

    let accepted = reason(vercel, &folder, &args)?;
    if accepted != "not_linked" {
        return Err(format!(
            "the pinned CLI does not accept the README's `vercel logs` command ({accepted}): {args:?}"
        ));
    }
    let bare = ["logs", "https://x.vercel.app", "--json"].map(String::from);
    let refused = reason(vercel, &folder, &bare)?;
    if refused != "invalid_arguments" {
        return Err(format!(
            "a bare deployment URL was not refused as invalid ({refused}): the check cannot tell"
        ));
    }
    println!("vercel-build: the README's `vercel logs` command is accepted by the pinned CLI");
    Ok(())
}

/// The arguments of the README's `vercel logs …` command, with a placeholder deployment and
/// without its redirection.
fn readme_command(readme: &str) -> Result<Vec<String>> {
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.starts_with("vercel logs "));
    let mut command = String::new();
    for line in lines.by_ref() {
        match line.strip_suffix('\\') {
            Some(part) => command.push_str(part),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    if command.is_empty() {
        return Err("README.md has no line starting with `vercel logs `".into());
    }
    let command = command.split(" > ").next().unwrap_or_default();
    let words = shell_words(command);
    Ok(words
        .into_iter()
        .skip(1)
        .map(|w| match w.as_str() {
            "<deployment-url>" => "x.vercel.app".to_string(),
            _ => w,
        })
        .collect())
}

/// Splits on white space, keeping single-quoted text whole (all the README uses).
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '\'' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The `reason` of the CLI's JSON error for `args`, run with a dummy token, within 60 s.
fn reason(vercel: &Path, folder: &Path, args: &[String]) -> Result<String> {
    let mut child = Command::new(vercel)
        .args(args)
        .args(["--token", "offlinecheck"])
        .current_dir(folder)
        .env("VERCEL_TELEMETRY_DISABLED", "1")
        .env_remove("VERCEL_ORG_ID")
        .env_remove("VERCEL_PROJECT_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the pinned CLI: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("`vercel {}` hung for 60 s", args.join(" ")));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find_map(|error| error["reason"].as_str().map(str::to_string))
        .ok_or_else(|| format!("`vercel {}` said no JSON error: {text}", args.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_is_read_across_continuation_lines_without_its_redirection() {
        let readme = "text\n```sh\nvercel logs --deployment <deployment-url> --since 24h \\\n  --query 'level:error AND x' --json > out.jsonl\nnext\n";
        assert_eq!(
            readme_command(readme).unwrap(),
            [
                "logs",
                "--deployment",
                "x.vercel.app",
                "--since",
                "24h",
                "--query",
                "level:error AND x",
                "--json"
            ]
        );
        assert!(readme_command("no command here").is_err());
    }
}
