//! A private PostgreSQL cluster, for running without a `DATABASE_URL`.
//!
//! `serve` keeps its cluster under the data directory (the data survives
//! restarts) and runs it durably (fsync on); the test harness makes a
//! throw-away one and may turn fsync off. The cluster listens on 127.0.0.1
//! only, on a free port, with trust authentication for the local `postgres`
//! role, and its log never carries statement parameters or key values (a
//! unique violation on a card number would otherwise print the number).
//! initdb refuses to run as root, so as root the cluster is owned by, and run
//! as, the `postgres` system user (through `runuser`); when that user cannot
//! reach the data directory (a checkout under `/root`), the cluster lives
//! under [`RELOCATED_ROOT`] instead.

mod postmaster;
#[cfg(test)]
mod tests;

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use postmaster::Postmaster;

/// Where a root-run cluster goes when the `postgres` user cannot reach the
/// data directory: one subdirectory per data directory, named by its hash.
pub const RELOCATED_ROOT: &str = "/var/lib/wagebridge/clusters";

/// Written into the data directory's cluster directory when the cluster was relocated.
pub const LOCATION_FILE: &str = "CLUSTER_LOCATION";

/// Settings that keep PostgreSQL's own log free of personal data: no
/// statement text or parameters with errors, and no DETAIL lines (which
/// carry the key values of a unique violation).
const QUIET_LOG: &str = "-c log_min_error_statement=panic -c log_error_verbosity=terse \
     -c log_parameter_max_length_on_error=0 -c log_parameter_max_length=0 \
     -c log_statement=none -c log_min_duration_statement=-1";

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("PostgreSQL's {0} was not found on PATH or under /usr/lib/postgresql/*/bin; install PostgreSQL or set DATABASE_URL")]
    BinaryNotFound(&'static str),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("the postmaster of {data_dir} is gone, but processes {pids:?} still work in it; stop them before starting the cluster again (starting another postmaster now would corrupt it)")]
    InUse { data_dir: PathBuf, pids: Vec<i32> },
    #[error("a PostgreSQL server (pid {pid}) runs on {data_dir} but does not say its port; stop it (pg_ctl -D {data_dir} stop) or try again")]
    NoPort { data_dir: PathBuf, pid: i32 },
    #[error("the postgres user cannot reach {0}; make it reachable or set DATABASE_URL")]
    Unreachable(PathBuf),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// How a cluster is run.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// fsync on (PostgreSQL's defaults for durability). Only the test harness
    /// turns it off, for speed: a power loss may then corrupt the cluster.
    pub durable: bool,
}

impl Default for ClusterOptions {
    fn default() -> ClusterOptions {
        ClusterOptions { durable: true }
    }
}

impl ClusterOptions {
    /// For throw-away test clusters: fsync off.
    pub fn throwaway() -> ClusterOptions {
        ClusterOptions { durable: false }
    }
}

/// A running cluster that this process started.
#[derive(Debug)]
pub struct LocalCluster {
    data_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    pg_ctl: PathBuf,
    run_as_postgres: bool,
    /// False when another process (a running `serve`) started it: we use it but leave it running.
    owned: bool,
    stopped: bool,
}

impl LocalCluster {
    /// Starts a durable cluster in `dir` (creating it with initdb if needed).
    pub fn start(dir: &Path) -> Result<LocalCluster, ClusterError> {
        LocalCluster::start_with(dir, &ClusterOptions::default())
    }

    /// Starts the cluster in `dir`, or joins the one already running there.
    pub fn start_with(dir: &Path, options: &ClusterOptions) -> Result<LocalCluster, ClusterError> {
        let initdb = find_binary("initdb")?;
        let pg_ctl = find_binary("pg_ctl")?;
        let run_as_postgres = is_root();
        fs::create_dir_all(dir)?;
        let dir = fs::canonicalize(dir)?;
        let home = if run_as_postgres {
            postgres_home(&dir)?
        } else {
            dir
        };
        let data_dir = home.join("pgdata");
        let log_file = home.join("postgres.log");

        if !data_dir.join("PG_VERSION").exists() {
            let mut initdb = command(&initdb, run_as_postgres);
            initdb.arg("-D").arg(&data_dir).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ]);
            if !options.durable {
                initdb.arg("--no-sync");
            }
            run(&mut initdb, "initdb")?;
        }
        if let Some(port) = claim_data_dir(&data_dir)? {
            return Ok(LocalCluster {
                data_dir,
                log_file,
                port,
                pg_ctl,
                run_as_postgres,
                owned: false,
                stopped: false,
            });
        }
        let port = free_port()?;
        if run_as_postgres && !log_file.exists() {
            // pg_ctl writes the log as the postgres user.
            fs::File::create(&log_file)?;
            chown_postgres(&log_file)?;
        }
        let mut options_arg = format!(
            "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' \
             -c max_connections=200 {QUIET_LOG}"
        );
        if !options.durable {
            options_arg.push_str(" -c fsync=off");
        }
        run(
            command(&pg_ctl, run_as_postgres)
                .arg("-D")
                .arg(&data_dir)
                .arg("-l")
                .arg(&log_file)
                .args(["-o", &options_arg, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        )?;
        Ok(LocalCluster {
            data_dir,
            log_file,
            port,
            pg_ctl,
            run_as_postgres,
            owned: true,
            stopped: false,
        })
    }

    /// PostgreSQL's own log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
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

/// Decides what to do with a `postmaster.pid` in `data_dir`: `Some(port)`
/// when a live postmaster runs there (we share it); `None` when the directory
/// is free (a stale file, proven stale, is removed).
fn claim_data_dir(data_dir: &Path) -> Result<Option<u16>, ClusterError> {
    // A postmaster that is starting writes its port a moment after its pid.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match postmaster::inspect(data_dir)? {
            Postmaster::Absent => return Ok(None),
            Postmaster::Running { pid } => match postmaster::port(data_dir) {
                Some(port) => return Ok(Some(port)),
                None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
                None => {
                    return Err(ClusterError::NoPort {
                        data_dir: data_dir.to_owned(),
                        pid,
                    })
                }
            },
            Postmaster::Stale { pid } => {
                tracing::warn!(
                    data_dir = %data_dir.display(),
                    pid,
                    "removing a stale postmaster.pid: its process is gone and nothing works in the directory"
                );
                fs::remove_file(data_dir.join("postmaster.pid"))?;
                return Ok(None);
            }
            Postmaster::Busy { pids } => {
                return Err(ClusterError::InUse {
                    data_dir: data_dir.to_owned(),
                    pids,
                })
            }
        }
    }
}

/// The directory the root-run cluster lives in: `dir` when the postgres
/// user can reach it, otherwise a directory of its own under [`RELOCATED_ROOT`].
/// Only directories wagebridge made for the cluster change owner; the user's
/// own directories (`dir`'s parents) are never touched.
fn postgres_home(dir: &Path) -> Result<PathBuf, ClusterError> {
    let relocated = relocated_home(dir);
    // Once relocated, stay there: that is where the data is.
    if !relocated.join("pgdata").join("PG_VERSION").exists() {
        chown_postgres(dir)?;
        if postgres_can_reach(dir) {
            return Ok(dir.to_owned());
        }
    }
    fs::create_dir_all(&relocated)?;
    chown_postgres(&relocated)?;
    if !postgres_can_reach(&relocated) {
        return Err(ClusterError::Unreachable(relocated));
    }
    // Leave a note where the user looks for the cluster.
    fs::write(
        dir.join(LOCATION_FILE),
        format!(
            "The postgres user cannot reach this directory, so the private cluster lives in\n{}\n",
            relocated.display()
        ),
    )?;
    tracing::warn!(
        unreachable = %dir.display(),
        cluster = %relocated.display(),
        "the postgres user cannot reach the data directory (a parent directory is closed to it): the private PostgreSQL cluster lives elsewhere"
    );
    Ok(relocated)
}

/// [`RELOCATED_ROOT`]/`<hash of dir>`: the same data directory always maps to the same place.
pub fn relocated_home(dir: &Path) -> PathBuf {
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    Path::new(RELOCATED_ROOT).join(hex::encode(&digest[..8]))
}

/// Whether the postgres user may enter and write `dir` (every parent included).
fn postgres_can_reach(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .args(["-a", "-w"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
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
