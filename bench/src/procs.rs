//! Servers started for a benchmark: on a free port, output to files, stopped on drop.

use crate::layout::{Result, out_dir};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub port: u16,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Server {
    /// Starts `binary` with only `env` (plus PATH), logs in <target>/bench/logs/<label>.*, and
    /// waits until it accepts connections.
    pub fn start(label: &str, binary: &PathBuf, env: &[(&str, String)]) -> Result<Server> {
        let port = testkit::free_port();
        let logs = out_dir()?.join("logs");
        std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
        let stdout = logs.join(format!("{label}.out"));
        let stderr = logs.join(format!("{label}.err"));
        let child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("VERCEL_DEV_PORT", port.to_string())
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).map_err(|e| e.to_string())?)
            .stderr(File::create(&stderr).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("cannot start {binary:?}: {e}"))?;
        let server = Server {
            child,
            port,
            stdout,
            stderr,
        };
        if !testkit::wait_for_port(port, Duration::from_secs(20)) {
            return Err(format!(
                "{label}: nothing listened on port {port} within 20 s"
            ));
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of /proc/<pid>/status in KiB: `VmRSS` now, `VmHWM` the peak.
    pub fn memory_kib(&self, field: &str) -> u64 {
        proc_status_kib(self.pid(), field)
    }

    /// CPU time the process used so far, all its threads, user and system (`/proc/<pid>/stat`).
    pub fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .map_err(|e| format!("/proc/{}/stat: {e}", self.pid()))?;
        // After the name in parentheses: state is field 3, utime and stime fields 14 and 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok());
        match (ticks(14), ticks(15)) {
            (Some(user), Some(system)) => Ok((user + system) / clock_ticks()),
            _ => Err(format!(
                "cannot read the CPU time in /proc/{}/stat",
                self.pid()
            )),
        }
    }

    /// SIGTERM, then wait (at most `within`) for the drain and exit.
    pub fn terminate(mut self, within: Duration) -> Result<(String, String)> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + within;
        while self.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if Instant::now() > deadline {
                return Err(format!(
                    "{:?} did not exit within {within:?} of SIGTERM",
                    self.stdout
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok((read(&self.stdout), read(&self.stderr)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Clock ticks per second, the unit of `/proc/<pid>/stat`'s times (100 on Linux).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

pub fn read(path: &PathBuf) -> String {
    let mut text = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    text
}
