//! Reading Upstash REST replies: `{"result": …}` or `{"error": "…"}`, one per command.
//!
//! Upstash answers a pipeline with HTTP 200 even when a command inside it failed, so every
//! element is inspected; a reply of the wrong shape or length is an error, never a success.

use serde_json::Value;

/// What one command returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Result(Value),
    /// The command failed; the message comes from Redis (e.g. `WRONGTYPE …`), as sent: it is
    /// made fit to show ([`shown`]) only once the tokens are out of it, so no cut can leave
    /// part of one.
    Error(String),
}

/// The body was not an Upstash reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed;

/// Longest error text we pass on from storage.
const MAX_ERROR_CHARS: usize = 200;

/// The reply to `POST /` (one command).
pub fn single(body: &[u8]) -> Result<Reply, Malformed> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Malformed)?;
    element(value)
}

/// The reply to `POST /pipeline` with `expected` commands.
pub fn pipeline(body: &[u8], expected: usize) -> Result<Vec<Reply>, Malformed> {
    match serde_json::from_slice(body).map_err(|_| Malformed)? {
        Value::Array(items) if items.len() == expected => items.into_iter().map(element).collect(),
        _ => Err(Malformed),
    }
}

/// The `error` of an error body such as `{"error":"Unauthorized"}`, if it is one.
pub fn error_message(body: &[u8]) -> Option<String> {
    match single(body) {
        Ok(Reply::Error(message)) => Some(message),
        _ => None,
    }
}

fn element(value: Value) -> Result<Reply, Malformed> {
    let Value::Object(mut object) = value else {
        return Err(Malformed);
    };
    match (object.remove("result"), object.remove("error")) {
        (Some(result), None) => Ok(Reply::Result(result)),
        (None, Some(Value::String(message))) => Ok(Reply::Error(message)),
        _ => Err(Malformed),
    }
}

/// Storage's words, cut short and stripped of control characters, fit for a log line.
pub fn shown(message: &str) -> String {
    crate::record::sanitize_text(message.as_bytes(), MAX_ERROR_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_result_is_read() {
        assert_eq!(single(br#"{"result":3}"#), Ok(Reply::Result(json!(3))));
        assert_eq!(
            single(br#"{"result":null}"#),
            Ok(Reply::Result(Value::Null))
        );
    }

    #[test]
    fn an_error_inside_a_200_pipeline_is_found() {
        let body = br#"[{"result":1},{"error":"WRONGTYPE Operation against a key"}]"#;
        let replies = pipeline(body, 2).unwrap();
        assert_eq!(
            replies[1],
            Reply::Error("WRONGTYPE Operation against a key".into())
        );
    }

    #[test]
    fn a_pipeline_of_the_wrong_length_or_shape_is_malformed() {
        assert_eq!(pipeline(br#"[{"result":1}]"#, 2), Err(Malformed));
        assert_eq!(
            pipeline(br#"[{"result":1},{"result":2}]"#, 1),
            Err(Malformed)
        );
        assert_eq!(pipeline(br#"{"result":1}"#, 1), Err(Malformed));
        assert_eq!(pipeline(b"<html>502</html>", 1), Err(Malformed));
    }

    #[test]
    fn elements_that_are_neither_result_nor_error_are_malformed() {
        for body in [
            &br#"{}"#[..],
            br#"{"result":1,"error":"x"}"#,
            br#"{"error":42}"#,
            b"[]",
            b"",
            b"null",
        ] {
            assert_eq!(
                single(body),
                Err(Malformed),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn error_text_is_cut_and_cleaned() {
        let long = format!("a\nb{}", "x".repeat(500));
        let message = shown(&long);
        assert!(message.starts_with("abx"));
        assert_eq!(message.chars().count(), MAX_ERROR_CHARS);
    }
}
