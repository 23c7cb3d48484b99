use super::*;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("env-file-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn problem(file: &EnvFile) -> &str {
    file.problem
        .as_deref()
        .unwrap_or_else(|| panic!("no problem in {file:?}"))
}

#[test]
fn a_missing_file_is_nothing_to_say() {
    let file = read(&scratch("missing").join(".env.local"));
    assert!(file.vars.is_empty() && file.notes.is_empty() && file.problem.is_none());
}

/// Only a file that is not there is "no file": a path that cannot be looked up is a problem.
#[test]
fn a_path_that_cannot_be_looked_up_is_a_problem_not_a_missing_file() {
    let dir = scratch("not-a-dir");
    std::fs::write(dir.join("file"), "").unwrap();
    let file = read(&dir.join("file").join(".env.local"));
    assert!(problem(&file).contains("cannot be read"), "{file:?}");
}

/// As dotenv tools do: a name given twice keeps its last value, so a token appended to the file
/// replaces the old one.
#[test]
fn a_repeated_name_keeps_its_last_value() {
    let path = scratch("repeated").join(".env.local");
    std::fs::write(&path, "KV_REST_API_TOKEN=old\nKV_REST_API_TOKEN=new\n").unwrap();
    assert_eq!(read(&path).vars["KV_REST_API_TOKEN"], "new");
}

#[test]
fn the_bound_is_the_one_the_message_names() {
    assert_eq!(MAX_BYTES, 1024 * 1024, "the message says 1 MiB");
    assert!(TOO_LARGE.contains("1 MiB"));
}

#[test]
fn a_pulled_file_is_read_with_its_quotes_and_escapes() {
    let path = scratch("pulled").join(".env.local");
    let text =
        "# Created by Vercel CLI\nKV_REST_API_URL=\"https://x\"\nKV_REST_API_TOKEN=\"w\\n\"\n";
    std::fs::write(&path, text).unwrap();
    let file = read(&path);
    assert_eq!(file.vars["KV_REST_API_URL"], "https://x");
    assert_eq!(
        file.vars["KV_REST_API_TOKEN"], "w\n",
        "trimming is the settings' job"
    );
    assert!(file.notes.is_empty() && file.problem.is_none(), "{file:?}");
}

#[test]
fn lines_that_are_not_settings_are_skipped_counted_and_never_shown() {
    let path = scratch("malformed").join(".env.local");
    let text = "# a comment\nKV_REST_API_URL=\"https://x\"\nnot a s3cret setting\n\
                KV_REST_API_TOKEN='w'\n=s3cret\n";
    std::fs::write(&path, text).unwrap();
    let file = read(&path);
    assert_eq!(file.vars["KV_REST_API_URL"], "https://x");
    assert_eq!(file.vars["KV_REST_API_TOKEN"], "w");
    assert_eq!(
        file.notes,
        [format!(
            "{}: 2 line(s) are not NAME=value and were skipped",
            path.display()
        )]
    );
    assert!(file.problem.is_none());
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_name() {
    let path = scratch("bom").join(".env.local");
    std::fs::write(&path, "\u{feff}KV_REST_API_URL=https://x\n").unwrap();
    let file = read(&path);
    assert_eq!(file.vars["KV_REST_API_URL"], "https://x");
    assert!(file.notes.is_empty(), "{file:?}");
}

/// What must never block or fill memory at start-up: each is refused before it is opened.
#[test]
fn what_is_not_a_regular_file_is_refused_unread() {
    let dir = scratch("special");
    let directory = dir.join("directory");
    std::fs::create_dir_all(&directory).unwrap();
    let zero = dir.join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo failed");
    for path in [directory, zero, fifo] {
        let file = read(&path);
        assert!(
            problem(&file).ends_with("is not a regular file: fix or remove it"),
            "{file:?}"
        );
        assert!(file.vars.is_empty());
    }
}

/// The bound is exact: a file of exactly 1 MiB is read whole, up to its last byte.
#[test]
fn a_file_of_exactly_the_bound_is_read_to_its_end() {
    let path = scratch("exact").join(".env.local");
    let last = "KV_REST_API_TOKEN=the-end";
    let padding = MAX_BYTES as usize - last.len();
    let text = format!("#{}\n{last}", "x".repeat(padding - 2));
    assert_eq!(text.len() as u64, MAX_BYTES);
    std::fs::write(&path, text).unwrap();
    let file = read(&path);
    assert!(file.problem.is_none(), "{file:?}");
    assert_eq!(file.vars["KV_REST_API_TOKEN"], "the-end");
}

/// What is read is bounded too, whatever size the file reported: one byte past the bound is
/// found and refused, never cut off and taken as the whole file.
#[test]
fn text_read_past_the_bound_is_refused_whatever_the_file_said_its_size_was() {
    let exactly = std::io::repeat(b'#').take(MAX_BYTES);
    assert_eq!(
        read_bounded(exactly).map(|text| text.len()),
        Ok(MAX_BYTES as usize)
    );
    let endless = std::io::repeat(b'#');
    assert_eq!(read_bounded(endless), Err(TOO_LARGE));
}

#[test]
fn a_file_too_large_or_not_text_is_refused_whole() {
    let dir = scratch("large");
    let large = dir.join("large");
    std::fs::write(&large, vec![b'#'; MAX_BYTES as usize + 1]).unwrap();
    assert!(problem(&read(&large)).contains("over 1 MiB"));
    let binary = dir.join("binary");
    std::fs::write(
        &binary,
        b"KV_REST_API_URL=https://x\nKV_REST_API_TOKEN=\xff\xfe\n",
    )
    .unwrap();
    let file = read(&binary);
    assert!(problem(&file).contains("is not UTF-8 text"), "{file:?}");
    assert!(file.vars.is_empty());
}
