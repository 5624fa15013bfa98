//! A private PostgreSQL cluster, for running without a `DATABASE_URL`.
//!
//! `serve` keeps its cluster under the data directory (the data survives
//! restarts); the test harness makes a throw-away one. The cluster listens on
//! 127.0.0.1 only, on a free port, with trust authentication for the local
//! `postgres` role. initdb refuses to run as root, so as root the cluster is
//! owned by, and run as, the `postgres` system user (through `runuser`).

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("PostgreSQL's {0} was not found on PATH or under /usr/lib/postgresql/*/bin; install PostgreSQL or set DATABASE_URL")]
    BinaryNotFound(&'static str),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running cluster that this process started.
#[derive(Debug)]
pub struct LocalCluster {
    data_dir: PathBuf,
    port: u16,
    pg_ctl: PathBuf,
    run_as_postgres: bool,
    /// False when another process (a running `serve`) started it: we use it but leave it running.
    owned: bool,
    stopped: bool,
}

impl LocalCluster {
    /// Starts the cluster in `dir` (creating it with initdb if needed).
    pub fn start(dir: &Path) -> Result<LocalCluster, ClusterError> {
        let initdb = find_binary("initdb")?;
        let pg_ctl = find_binary("pg_ctl")?;
        let run_as_postgres = is_root();
        fs::create_dir_all(dir)?;
        let dir = fs::canonicalize(dir)?;
        let data_dir = dir.join("pgdata");
        if run_as_postgres {
            // The postgres user must own the cluster and reach it.
            chown_postgres(&dir)?;
        }

        if !data_dir.join("PG_VERSION").exists() {
            run(
                command(&initdb, run_as_postgres)
                    .arg("-D")
                    .arg(&data_dir)
                    .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                    .args(["--locale=C", "--no-sync"]),
                "initdb",
            )?;
        }
        if pg_ctl_status(&pg_ctl, &data_dir, run_as_postgres) {
            // Another wagebridge process runs this cluster: share it.
            if let Some(port) = running_port(&data_dir) {
                return Ok(LocalCluster {
                    data_dir,
                    port,
                    pg_ctl,
                    run_as_postgres,
                    owned: false,
                    stopped: false,
                });
            }
        }
        // A stale postmaster.pid from a crash would stop pg_ctl from starting.
        let _ = fs::remove_file(data_dir.join("postmaster.pid"));
        let port = free_port()?;
        let log = dir.join("postgres.log");
        if run_as_postgres {
            // pg_ctl writes the log as the postgres user.
            fs::File::create(&log)?;
            chown_postgres(&log)?;
        }
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' \
             -c fsync=off -c max_connections=200"
        );
        run(
            command(&pg_ctl, run_as_postgres)
                .arg("-D")
                .arg(&data_dir)
                .arg("-l")
                .arg(&log)
                .args(["-o", &options, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        )?;
        Ok(LocalCluster {
            data_dir,
            port,
            pg_ctl,
            run_as_postgres,
            owned: true,
            stopped: false,
        })
    }

    /// Whether this process started the cluster (and so stops it).
    pub fn owned(&self) -> bool {
        self.owned
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// URL of a database in this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the cluster (fast shutdown: open sessions are ended).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if self.stopped || !self.owned {
            return Ok(());
        }
        self.stopped = true;
        run(
            command(&self.pg_ctl, self.run_as_postgres)
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "fast", "-w", "stop"]),
            "pg_ctl stop",
        )
    }

    /// The command line that stops this cluster; used by a watchdog that
    /// outlives the process which started it.
    pub fn stop_command(&self) -> Vec<String> {
        let mut cmd = Vec::new();
        if self.run_as_postgres {
            cmd.extend(["runuser", "-u", "postgres", "--"].map(String::from));
        }
        cmd.push(self.pg_ctl.display().to_string());
        cmd.extend(["-D".to_owned(), self.data_dir.display().to_string()]);
        cmd.extend(["-m", "immediate", "-w", "stop"].map(String::from));
        cmd
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, "could not stop the local PostgreSQL cluster");
        }
    }
}

/// Finds a PostgreSQL server binary on PATH, else in Debian's versioned directories (newest first).
pub fn find_binary(name: &'static str) -> Result<PathBuf, ClusterError> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let candidate = entry.path().join("bin").join(name);
            candidate.is_file().then_some((version, candidate))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, path)| path)
        .ok_or(ClusterError::BinaryNotFound(name))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn command(binary: &Path, run_as_postgres: bool) -> Command {
    if run_as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(binary);
        cmd
    } else {
        Command::new(binary)
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), ClusterError> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ClusterError::Command {
            what: what.to_owned(),
            detail: e.to_string(),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(ClusterError::Command {
            what: what.to_owned(),
            detail: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

fn pg_ctl_status(pg_ctl: &Path, data_dir: &Path, run_as_postgres: bool) -> bool {
    command(pg_ctl, run_as_postgres)
        .arg("-D")
        .arg(data_dir)
        .arg("status")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The port of a running cluster, from the fourth line of its postmaster.pid.
fn running_port(data_dir: &Path) -> Option<u16> {
    let pid_file = fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    pid_file.lines().nth(3)?.trim().parse().ok()
}

fn chown_postgres(path: &Path) -> Result<(), ClusterError> {
    run(
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path),
        "chown postgres",
    )
}

/// A port that was free a moment ago; PostgreSQL binds it right after.
fn free_port() -> Result<u16, ClusterError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
