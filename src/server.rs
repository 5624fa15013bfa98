//! Assembling the service: the database (given, or a private local cluster),
//! migrations, and the HTTP(S) server.

use std::path::Path;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};
use tracing_actix_web::TracingLogger;

use crate::api::{self, AppState};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, local_cluster::LocalCluster, PgPool};
use crate::telemetry::RequestSpan;

/// The database the process uses, and the local cluster behind it when there is one.
pub struct Database {
    pub url: String,
    /// Stopped when dropped (if this process started it).
    pub cluster: Option<LocalCluster>,
}

impl Database {
    /// `DATABASE_URL` when set; otherwise a private cluster under the data directory.
    pub fn open(settings: &Settings) -> anyhow::Result<Database> {
        if let Some(url) = &settings.database_url {
            return Ok(Database {
                url: url.clone(),
                cluster: None,
            });
        }
        let dir = settings.data_dir.join("postgres");
        let cluster = LocalCluster::start(&dir)
            .with_context(|| format!("starting a local PostgreSQL cluster in {}", dir.display()))?;
        if cluster.owned() {
            tracing::info!(
                data_dir = %cluster.data_dir().display(),
                port = cluster.port(),
                "DATABASE_URL is not set: started a private PostgreSQL cluster; it stops when wagebridge exits"
            );
        } else {
            tracing::info!(
                port = cluster.port(),
                "using the private PostgreSQL cluster another wagebridge process runs"
            );
        }
        ensure_database(&cluster.url("postgres"), "wagebridge")?;
        Ok(Database {
            url: cluster.url("wagebridge"),
            cluster: Some(cluster),
        })
    }

    /// Connects, runs pending migrations and returns a pool.
    pub fn migrated_pool(&self, size: u32) -> anyhow::Result<PgPool> {
        let pool = db::pool(&self.url, size).context("connecting to PostgreSQL")?;
        let mut conn = pool.get().context("connecting to PostgreSQL")?;
        let applied = db::run_migrations(&mut conn)?;
        for version in &applied {
            tracing::info!(%version, "applied migration");
        }
        Ok(pool)
    }
}

/// Creates the database when it does not exist yet.
fn ensure_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(admin_url).context("connecting to the local cluster")?;
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let found: Exists =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS exists")
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result(&mut conn)?;
    if !found.exists {
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn)?;
    }
    Ok(())
}

/// Runs the HTTP(S) server until SIGINT/SIGTERM, with `clock` as the business clock.
pub async fn serve(settings: &Settings, pool: PgPool, clock: Clock) -> anyhow::Result<()> {
    let state = web::Data::new(AppState { pool, clock });
    let max_body = settings.max_body_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(TracingLogger::<RequestSpan>::new())
            .app_data(state.clone())
            .configure(api::configure(max_body))
    });
    let server = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = tls_config(cert, key, settings.tls_client_ca.as_deref())?;
            tracing::info!(bind = %settings.bind, "serving HTTPS");
            server.bind_rustls_0_23(settings.bind, tls)
        }
        (None, None) => {
            tracing::info!(bind = %settings.bind, "serving HTTP");
            server.bind(settings.bind)
        }
        _ => anyhow::bail!("set both WAGEBRIDGE_TLS_CERT and WAGEBRIDGE_TLS_KEY, or neither"),
    }
    .with_context(|| format!("binding {}", settings.bind))?;
    server.run().await.context("running the HTTP server")
}

/// rustls server config; with a client CA, client certificates are verified
/// when presented (banks' mutual TLS) but not required (API-key clients).
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> anyhow::Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = read_certs(cert)?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).with_context(|| format!("opening {}", key.display()))?,
    ))?
    .with_context(|| format!("no private key in {}", key.display()))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(ca)? {
                roots.add(c)?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    Ok(builder.with_single_cert(certs, key)?)
}

fn read_certs(path: &Path) -> anyhow::Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let certs =
        rustls_pemfile::certs(&mut std::io::BufReader::new(file)).collect::<Result<Vec<_>, _>>()?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", path.display());
    Ok(certs)
}
