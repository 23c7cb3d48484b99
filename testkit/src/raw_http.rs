//! Requests as raw bytes over TCP: what an HTTP client library would refuse or normalise (`..`,
//! bytes that are not UTF-8, broken framing, oversized heads), and an answer read as it comes.
//!
//! Plain std, so that synchronous tools use it too; async tests go through
//! `App::send_raw`, which runs it off the runtime's threads.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// An HTTP answer as it came over the wire.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Names as sent (hyper sends them in lower case), in order.
    pub headers: Vec<(String, String)>,
    /// Everything after the head, lossily decoded.
    pub body: String,
}

impl Answer {
    /// The first header named `name` (compared ignoring ASCII case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `head` (request line and headers, any bytes, without the final blank line), then
/// `connection: close` and the blank line.
pub fn closed(head: impl AsRef<[u8]>) -> Vec<u8> {
    let mut request = head.as_ref().to_vec();
    request.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
    request
}

/// `GET path` over HTTP/1.1 with `headers`, on a connection of its own.
pub fn get(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    within: Duration,
) -> Result<Answer, String> {
    let mut head = format!("GET {path} HTTP/1.1\r\nhost: localhost");
    for (name, value) in headers {
        head.push_str(&format!("\r\n{name}: {value}"));
    }
    send(port, &closed(head), within)
}

/// Sends exactly `request` and reads the answer until the server closes the connection.
///
/// Reads while it writes: for an oversized request the server answers (414, 431) and closes
/// before it has read everything, and that answer must not wait behind our own write; a write
/// cut short is fine once an answer came. `Err` for anything that is not an HTTP answer within
/// `within`: a refused connection, a close or a reset without a status line, silence.
pub fn send(port: u16, request: &[u8], within: Duration) -> Result<Answer, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    let mut writer = stream.try_clone().map_err(|e| format!("clone: {e}"))?;
    let deadline = Instant::now() + within;
    let mut answer = Vec::new();
    let ended = std::thread::scope(|scope| {
        scope.spawn(move || {
            let _ = writer.write_all(request);
        });
        let ended = read_until_closed(&mut stream, &mut answer, deadline);
        // Unblocks the write, should the server have stopped reading without closing.
        let _ = stream.shutdown(Shutdown::Both);
        ended
    });
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok());
    let Some(status) = status else {
        return Err(match ended {
            Ended::TimedOut => format!("no answer within {within:?} (got {answer:?})"),
            Ended::Failed(error) => format!("connection dropped without an answer: {error}"),
            Ended::Closed => format!("connection closed without an HTTP answer: {answer:?}"),
        });
    };
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let headers = head
        .split("\r\n")
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_string(),
    })
}

enum Ended {
    Closed,
    TimedOut,
    Failed(std::io::Error),
}

fn read_until_closed(stream: &mut TcpStream, answer: &mut Vec<u8>, deadline: Instant) -> Ended {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Ended::TimedOut;
        };
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Ended::TimedOut;
        }
        match stream.read(&mut buffer) {
            Ok(0) => return Ended::Closed,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ended::TimedOut;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Ended::Failed(error),
        }
    }
}
