//! Just enough of the Redis protocol (RESP2) for the Upstash test double to run commands on
//! a real `redis-server`.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Runs one command; `Err` is a Redis error reply such as `WRONGTYPE …`.
pub async fn run(port: u16, args: &[String]) -> std::io::Result<Reply> {
    let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await?);
    let mut frame = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        frame.extend(format!("${}\r\n", arg.len()).as_bytes());
        frame.extend(arg.as_bytes());
        frame.extend(b"\r\n");
    }
    stream.get_mut().write_all(&frame).await?;
    read(&mut stream).await
}

/// A reply, or the Redis error it carried.
type Reply = Result<Value, String>;
type Reading<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Reply>> + Send + 'a>>;

/// Boxed because arrays nest replies.
fn read(stream: &mut BufReader<TcpStream>) -> Reading<'_> {
    Box::pin(async move {
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1.min(line.len()));
        let number = || rest.parse::<i64>().map_err(std::io::Error::other);
        Ok(match kind {
            "+" => Ok(Value::String(rest.to_string())),
            "-" => Err(rest.to_string()),
            ":" => Ok(Value::from(number()?)),
            "$" => match number()? {
                -1 => Ok(Value::Null),
                len => {
                    let mut data = vec![0; len as usize + 2];
                    stream.read_exact(&mut data).await?;
                    data.truncate(len as usize);
                    Ok(Value::String(String::from_utf8_lossy(&data).into_owned()))
                }
            },
            "*" => match number()? {
                -1 => Ok(Value::Null),
                len => {
                    let mut items = Vec::new();
                    for _ in 0..len {
                        items.push(read(stream).await?.unwrap_or_else(Value::String));
                    }
                    Ok(Value::Array(items))
                }
            },
            _ => {
                return Err(std::io::Error::other(format!(
                    "unexpected RESP line {line:?}"
                )));
            }
        })
    })
}
