//! When `/api/wait-until` writes its record: after the response (with `wait_until`, the point of
//! this project), or before it (`?await=1`, the comparison the page draws).

/// When the record is written, relative to the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The response leaves at once; the write runs after it, inside `wait_until`.
    AfterResponse,
    /// The write finishes (or fails) before the response leaves, as code without `wait_until`
    /// would have to do it.
    Awaited,
}

/// What a `?await=` we cannot read gets, as the `400`'s message.
pub const REFUSED: &str = "`await` must be given at most once, as 1 (write before answering) or 0";

impl WriteMode {
    /// From a request's query: `await=1` awaits; `await=0` or no `await` writes after the
    /// response. Other parameters are ignored, so a cache buster does no harm; any other
    /// `await`, or two of them, is refused rather than guessed at.
    pub fn from_query(query: Option<&str>) -> Result<Self, &'static str> {
        let mut mode = None;
        for pair in query.unwrap_or_default().split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if name != "await" {
                continue;
            }
            let this = match value {
                "1" => WriteMode::Awaited,
                "0" => WriteMode::AfterResponse,
                _ => return Err(REFUSED),
            };
            if mode.replace(this).is_some() {
                return Err(REFUSED);
            }
        }
        Ok(mode.unwrap_or(WriteMode::AfterResponse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use WriteMode::*;

    #[test]
    fn only_await_1_awaits_and_no_await_writes_after_the_response() {
        for (query, mode) in [
            (None, AfterResponse),
            (Some(""), AfterResponse),
            (Some("await=0"), AfterResponse),
            (Some("await=1"), Awaited),
            (Some("t=123&await=1"), Awaited),
            (Some("await=1&&x"), Awaited),
            (Some("awaited=1&AWAIT=1&x=await"), AfterResponse),
        ] {
            assert_eq!(WriteMode::from_query(query), Ok(mode), "{query:?}");
        }
    }

    #[test]
    fn any_other_await_or_a_second_one_is_refused() {
        for query in [
            "await",
            "await=",
            "await=true",
            "await=2",
            "await=01",
            "await=1 ",
            "await=%31",
            "await=1&await=1",
            "await=0&await=1",
        ] {
            assert_eq!(WriteMode::from_query(Some(query)), Err(REFUSED), "{query}");
        }
    }
}
