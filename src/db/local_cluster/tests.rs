//! Real clusters (initdb + pg_ctl): the pid file rules and the quiet log.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

use super::{ClusterError, ClusterOptions, LocalCluster};

/// A directory the postgres user can reach (tempdir makes 0700 ones), deleted afterwards.
fn reachable_temp_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod temp dir");
    dir
}

fn start(dir: &Path) -> LocalCluster {
    LocalCluster::start_with(dir, &ClusterOptions::throwaway()).expect("start the cluster")
}

fn pid_file(cluster: &LocalCluster) -> PathBuf {
    cluster.data_dir().join("postmaster.pid")
}

fn connect(cluster: &LocalCluster) -> PgConnection {
    PgConnection::establish(&cluster.url("postgres")).expect("connect to the cluster")
}

/// Replaces the pid (first line) of a postmaster.pid kept from a real run.
fn write_pid_file(path: &Path, template: &str, pid: u32) {
    let rest: Vec<&str> = template.lines().skip(1).collect();
    std::fs::write(path, format!("{pid}\n{}\n", rest.join("\n"))).expect("write postmaster.pid");
}

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

struct Sleeper(Child);

impl Sleeper {
    /// A process whose working directory is `dir`, as an orphaned backend's is.
    fn in_dir(dir: &Path) -> Sleeper {
        Sleeper(
            Command::new("sleep")
                .arg("120")
                .current_dir(dir)
                .spawn()
                .expect("spawn sleep"),
        )
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_live_postmaster_is_shared_and_its_pid_file_kept() {
    let dir = reachable_temp_dir();
    let first = start(dir.path());
    assert!(first.owned());
    let pid_before = std::fs::read_to_string(pid_file(&first)).expect("pid file");

    let second = start(dir.path());
    assert!(
        !second.owned(),
        "the running cluster is joined, not restarted"
    );
    assert_eq!(second.port(), first.port());
    assert_eq!(
        std::fs::read_to_string(pid_file(&first)).expect("pid file is still there"),
        pid_before
    );
    drop(second);
    // Dropping the joined handle leaves the owner's postmaster running.
    diesel::sql_query("SELECT 1")
        .execute(&mut connect(&first))
        .expect("the first postmaster still answers");
}

#[test]
fn a_stale_pid_file_is_removed_only_once_nothing_works_in_the_directory() {
    let dir = reachable_temp_dir();
    let mut cluster = start(dir.path());
    let pid_path = pid_file(&cluster);
    let template = std::fs::read_to_string(&pid_path).expect("pid file");
    let data_dir = cluster.data_dir().to_owned();
    cluster.stop().expect("stop");
    drop(cluster);

    // The postmaster died, but a process still works in the directory: refuse, keep the file.
    write_pid_file(&pid_path, &template, dead_pid());
    let sleeper = Sleeper::in_dir(&data_dir);
    match LocalCluster::start_with(dir.path(), &ClusterOptions::throwaway()) {
        Err(ClusterError::InUse { pids, .. }) => assert!(pids.contains(&(sleeper.0.id() as i32))),
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(
        pid_path.exists(),
        "the pid file stays while the directory is in use"
    );
    drop(sleeper);

    // Dead pid, nothing in the directory: cleaned, and the cluster starts.
    let cluster = start(dir.path());
    assert!(cluster.owned());
    diesel::sql_query("SELECT 1")
        .execute(&mut connect(&cluster))
        .expect("the restarted cluster answers");
}

#[test]
fn a_pid_file_naming_a_reused_pid_is_stale() {
    let dir = reachable_temp_dir();
    let mut cluster = start(dir.path());
    let pid_path = pid_file(&cluster);
    let template = std::fs::read_to_string(&pid_path).expect("pid file");
    cluster.stop().expect("stop");
    drop(cluster);

    // After a container restart the old postmaster's pid often belongs to
    // another process; PostgreSQL alone would refuse to start.
    write_pid_file(&pid_path, &template, std::process::id());
    let cluster = start(dir.path());
    assert!(cluster.owned());
    diesel::sql_query("SELECT 1")
        .execute(&mut connect(&cluster))
        .expect("the cluster answers");
}

#[test]
fn the_cluster_log_never_shows_the_key_values_of_a_unique_violation() {
    let dir = reachable_temp_dir();
    let cluster = start(dir.path());
    let mut conn = connect(&cluster);
    let card = "6222023202001234565";
    diesel::sql_query("CREATE TABLE cards (card_number text UNIQUE)")
        .execute(&mut conn)
        .expect("create table");
    let insert = || {
        diesel::sql_query("INSERT INTO cards VALUES ($1)").bind::<diesel::sql_types::Text, _>(card)
    };
    insert().execute(&mut conn).expect("first insert");
    let err = insert()
        .execute(&mut conn)
        .expect_err("second insert violates the key");
    assert!(err.to_string().contains("duplicate key"), "{err}");
    // The same with the value written into the statement text.
    let literal = format!("INSERT INTO cards VALUES ('{card}')");
    assert!(diesel::sql_query(literal).execute(&mut conn).is_err());

    let deadline = Instant::now() + Duration::from_secs(5);
    let log = loop {
        let log = std::fs::read_to_string(cluster.log_file()).expect("read the cluster log");
        if log
            .matches("duplicate key value violates unique constraint")
            .count()
            >= 2
            || Instant::now() > deadline
        {
            break log;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        log.matches("duplicate key value violates unique constraint")
            .count(),
        2,
        "both violations are logged: {log}"
    );
    assert!(!log.contains(card), "the card number is in the log: {log}");
    assert!(
        !log.contains("1234565"),
        "part of the card number is in the log"
    );
}

#[test]
fn serve_clusters_keep_fsync_on() {
    let dir = reachable_temp_dir();
    let cluster = LocalCluster::start(dir.path()).expect("start a durable cluster");
    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = diesel::sql_types::Text)]
        setting: String,
    }
    let mut conn = connect(&cluster);
    for (name, want) in [
        ("fsync", "on"),
        ("full_page_writes", "on"),
        ("synchronous_commit", "on"),
    ] {
        let got: Setting = diesel::sql_query("SELECT current_setting($1) AS setting")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result(&mut conn)
            .expect("read setting");
        assert_eq!(got.setting, want, "{name}");
    }
    let throwaway = reachable_temp_dir();
    let fast = start(throwaway.path());
    let got: Setting = diesel::sql_query("SELECT current_setting('fsync') AS setting")
        .get_result(&mut connect(&fast))
        .expect("read fsync");
    assert_eq!(
        got.setting, "off",
        "test clusters turn fsync off explicitly"
    );
}
