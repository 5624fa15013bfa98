//! What the benchmarks share: a database of their own (on `DATABASE_URL`,
//! or a private throw-away cluster) and valid organisation codes.

// Each bench compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use diesel::{Connection, PgConnection, RunQueryDsl};
use wagebridge::db::local_cluster::LocalCluster;

/// The n-th valid unified social credit code.
pub fn uscc(n: u32) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let body = format!("91420100{:09}", 100_000_000 + n);
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| ALPHABET.iter().position(|&a| a == b).unwrap_or(0) as u32 * w)
        .sum();
    let check = ALPHABET[((31 - sum % 31) % 31) as usize] as char;
    format!("{body}{check}")
}

/// A fresh database, dropped with its private cluster (if one was started).
pub struct Database {
    pub url: String,
    _cluster: Option<LocalCluster>,
    dir: Option<std::path::PathBuf>,
}

impl Drop for Database {
    fn drop(&mut self) {
        self._cluster.take();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn database(label: &str) -> Database {
    let name = format!("wb_{label}_{}", uuid::Uuid::new_v4().simple());
    let (admin_url, cluster, dir) =
        match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => (url, None, None),
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("wagebridge-{label}-pg-{}", std::process::id()));
                let cluster =
                    LocalCluster::start(&dir).expect("start a private PostgreSQL cluster");
                (cluster.url("postgres"), Some(cluster), Some(dir))
            }
        };
    let mut admin = PgConnection::establish(&admin_url).expect("connect");
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .expect("create database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(admin_url);
    Database {
        url: format!("{base}/{name}"),
        _cluster: cluster,
        dir,
    }
}
