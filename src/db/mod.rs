//! PostgreSQL through diesel: the connection pool, the embedded migrations,
//! and the queries, grouped by aggregate. Nothing here knows about HTTP.

pub mod attendance;
pub mod audit;
pub mod bank_connections;
pub mod bank_files;
pub mod bank_outbox;
pub mod client_certificates;
pub mod disbursements;
pub mod idempotency;
pub mod local_cluster;
pub mod organizations;
pub mod payrolls;
pub mod projects;
pub mod roster;
pub mod schema;
pub mod statements;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type PgPool = Pool<ConnectionManager<PgConnection>>;
pub type PgPooled = PooledConnection<ConnectionManager<PgConnection>>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database connection: {0}")]
    Connection(#[from] diesel::ConnectionError),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("the database task was cancelled")]
    Cancelled,
}

/// A pool of `size` connections to `url`.
pub fn pool(url: &str, size: u32) -> Result<PgPool, DbError> {
    let manager = ConnectionManager::<PgConnection>::new(url);
    Ok(Pool::builder()
        .max_size(size)
        .connection_timeout(std::time::Duration::from_secs(10))
        .build(manager)?)
}

/// Runs every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut PgConnection) -> Result<Vec<String>, DbError> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(|e| DbError::Migration(e.to_string()))
}

/// How long a request waits for a pooled connection before it is answered 503:
/// short, so an outage is reported in seconds rather than after the pool's own
/// connection timeout.
pub const REQUEST_CHECKOUT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs blocking diesel work on tokio's blocking pool, so the actix workers never wait on the database.
///
/// The work's error type is its own (`DbError` for a query, the use-case error for a use case).
pub async fn run<T, E, F>(pool: &PgPool, work: F) -> Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool
            .get_timeout(REQUEST_CHECKOUT_TIMEOUT)
            .map_err(DbError::from)?;
        work(&mut conn)
    })
    .await
    .map_err(|_| E::from(DbError::Cancelled))?
}
