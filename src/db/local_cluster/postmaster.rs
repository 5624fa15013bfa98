//! Who owns a data directory: reading `postmaster.pid` without trusting it.
//!
//! A `postmaster.pid` left by a crash makes PostgreSQL refuse to start when
//! its pid has since been reused by another process (common in containers),
//! and deleting the file while a postmaster, or an orphaned backend, still
//! works on the directory lets a second postmaster corrupt it. So the file is
//! called stale only when no process at all has the data directory as its
//! working directory (every postmaster and backend `chdir`s into it).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What the data directory's `postmaster.pid` says, checked against the live processes.
#[derive(Debug, PartialEq, Eq)]
pub enum Postmaster {
    /// No `postmaster.pid`: nobody runs the cluster.
    Absent,
    /// A live postgres process works on this directory under the pid in the file.
    Running { pid: i32 },
    /// The file names a process that is gone (or is not a postgres on this
    /// directory), and no process works on the directory: safe to remove.
    Stale { pid: Option<i32> },
    /// The file's postmaster is gone, but these processes still work on the
    /// directory (orphaned backends): starting another postmaster would corrupt it.
    Busy { pids: Vec<i32> },
}

/// Inspects `data_dir/postmaster.pid`.
pub fn inspect(data_dir: &Path) -> io::Result<Postmaster> {
    let text = match fs::read_to_string(data_dir.join("postmaster.pid")) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Postmaster::Absent),
        Err(e) => return Err(e),
    };
    // A crash while the file was written can leave it empty or cut short.
    let pid = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
        .filter(|p| *p > 0);
    if !can_see_processes() {
        // Without /proc, fall back to what pg_ctl itself checks: is the pid alive?
        return Ok(match pid {
            Some(pid) if is_alive(pid) => Postmaster::Running { pid },
            _ => Postmaster::Stale { pid },
        });
    }
    if let Some(pid) = pid {
        if is_alive(pid) && works_in(pid, data_dir) {
            return Ok(Postmaster::Running { pid });
        }
    }
    let pids = processes_working_in(data_dir);
    if pids.is_empty() {
        Ok(Postmaster::Stale { pid })
    } else {
        Ok(Postmaster::Busy { pids })
    }
}

/// The port of a running cluster, from the fourth line of its postmaster.pid.
pub fn port(data_dir: &Path) -> Option<u16> {
    let pid_file = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    pid_file.lines().nth(3)?.trim().parse().ok()
}

fn can_see_processes() -> bool {
    Path::new("/proc/self/cwd").exists()
}

fn is_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists; pid > 0 names one process.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn cwd_of(pid: i32) -> Option<PathBuf> {
    fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

fn works_in(pid: i32, data_dir: &Path) -> bool {
    cwd_of(pid).is_some_and(|cwd| cwd == data_dir)
}

/// Every process whose working directory is `data_dir`.
fn processes_working_in(data_dir: &Path) -> Vec<i32> {
    let mut pids: Vec<i32> = fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| works_in(*pid, data_dir))
        .collect();
    pids.sort_unstable();
    pids
}
