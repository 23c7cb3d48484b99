//! The load side of the benchmarks: keep-alive HTTP/1.1 connections sending fixed request
//! counts, at a fixed pace, timing each answer. (One-off requests use the test kit's
//! `raw_http`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends `n` requests on one connection; returns how many answered 200.
pub fn keep_alive(port: u16, request: &str, n: usize) -> usize {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut ok = 0;
    for _ in 0..n {
        if reader.get_mut().write_all(request.as_bytes()).is_err() {
            break;
        }
        match read_response(&mut reader) {
            Some(200) => ok += 1,
            Some(_) => {}
            None => break,
        }
    }
    ok
}

/// Milliseconds of one request on a kept connection, `n` times (for a storage round trip).
pub fn round_trips(port: u16, request: &str, n: usize) -> Vec<f64> {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return vec![];
    };
    let mut reader = BufReader::new(stream);
    (0..n)
        .filter_map(|_| {
            let started = Instant::now();
            reader.get_mut().write_all(request.as_bytes()).ok()?;
            read_response(&mut reader)?;
            Some(started.elapsed().as_secs_f64() * 1000.0)
        })
        .collect()
}

fn read_response(reader: &mut BufReader<TcpStream>) -> Option<u16> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(status)
}

/// Latencies (ms) of `per_thread` requests from each of `threads` kept connections, each
/// connection sending one request every `interval`: a fixed, unsaturated rate, so what is
/// measured is how long a client waits, not how much the server can take.
pub fn paced(
    port: u16,
    request: &str,
    threads: usize,
    per_thread: usize,
    interval: Duration,
) -> Vec<f64> {
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let request = request.to_string();
            std::thread::spawn(move || {
                let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
                    return vec![];
                };
                let _ = stream.set_nodelay(true);
                let mut reader = BufReader::new(stream);
                let mut latencies = Vec::with_capacity(per_thread);
                let mut next = Instant::now();
                for _ in 0..per_thread {
                    let started = Instant::now();
                    if reader.get_mut().write_all(request.as_bytes()).is_err()
                        || read_response(&mut reader).is_none()
                    {
                        break;
                    }
                    latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                    next += interval;
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                }
                latencies
            })
        })
        .collect();
    workers
        .into_iter()
        .flat_map(|w| w.join().unwrap_or_default())
        .collect()
}

/// The `q` quantile (0..=1) of `values`.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}
