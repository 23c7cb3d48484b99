//! Load from `wrk` (Debian's package): requests per second and latency percentiles.

use crate::layout::Result;
use std::process::Command;

#[derive(Debug, Clone, Default)]
pub struct Load {
    pub requests: u64,
    pub per_second: f64,
    pub non_2xx: u64,
    pub errors: u64,
    /// p50 and p99 in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub fn run(url: &str, connections: u32, seconds: u32) -> Result<Load> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            url,
        ])
        .output()
        .map_err(|e| format!("wrk: {e} (apt-get install wrk)"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))
}

fn parse(text: &str) -> Option<Load> {
    let mut load = Load::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => load.p50_ms = millis(value)?,
            ["99%", value] => load.p99_ms = millis(value)?,
            ["Requests/sec:", value] => load.per_second = value.parse().ok()?,
            [count, "requests", "in", ..] => load.requests = count.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => load.non_2xx = count.parse().ok()?,
            ["Socket", "errors:", ..] => {
                load.errors = words
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum()
            }
            _ => {}
        }
    }
    (load.requests > 0).then_some(load)
}

fn millis(value: &str) -> Option<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let text = "  Latency Distribution\n     50%  312.00us\n     99%    2.10ms\n  \
                    412345 requests in 10.00s, 80.00MB read\n  Non-2xx or 3xx responses: 3\n\
                    Requests/sec:  41234.50\n";
        let load = parse(text).unwrap();
        assert_eq!(load.requests, 412345);
        assert_eq!(load.non_2xx, 3);
        assert!((load.p50_ms - 0.312).abs() < 1e-9 && (load.p99_ms - 2.1).abs() < 1e-9);
        assert!((load.per_second - 41234.5).abs() < 1e-9);
    }
}
