//! Assembling the service: the database (given, or a private local cluster),
//! migrations, and the HTTP(S) server.

use std::time::Duration;

use actix_web::{web, App, HttpServer};
use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};
use tracing_actix_web::TracingLogger;

use crate::api::{self, AppState};
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, local_cluster::LocalCluster, PgPool};
use crate::notify::{Dispatcher, NotifySettings, Transport};
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
    start_notifier(settings, &pool, &clock)?;
    start_jobs(settings, &pool, &clock);
    let state = web::Data::new(AppState {
        pool: pool.clone(),
        clock: clock.clone(),
        token_limiter: Default::default(),
        data_dir: settings.data_dir.clone(),
    });
    let max_body = settings.max_body_bytes;
    crate::tabular::Limits::configure(crate::tabular::Limits::with_max_rows(
        settings.max_upload_rows,
    ));
    let admission = web::Data::new(api::admission::Admission::new(Default::default()));
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(api::admission::admit))
            .wrap(TracingLogger::<RequestSpan>::new())
            .app_data(state.clone())
            .app_data(admission.clone())
            .configure(api::configure(max_body))
    })
    // Before any bind: the callback is captured when a listener is bound.
    .on_connect(crate::tls::on_connect);
    let server = match tls_config(settings)? {
        Some(tls) => {
            tracing::info!(bind = %settings.bind, "serving HTTPS");
            server.bind_rustls_0_23(settings.bind, tls)
        }
        None => {
            tracing::info!(bind = %settings.bind, "serving HTTP");
            server.bind(settings.bind)
        }
    }
    .with_context(|| format!("binding {}", settings.bind))?;
    server.run().await.context("running the HTTP server")
}

/// Starts the loop that sends workers their confirmation links (see [`crate::notify`]).
fn start_notifier(settings: &Settings, pool: &PgPool, clock: &Clock) -> anyhow::Result<()> {
    let notify = NotifySettings::from_env(&settings.data_dir)?;
    match &notify.transport {
        Transport::File(path) => tracing::info!(
            file = %path.display(),
            "workers' confirmation links are written to a file (development sink)"
        ),
        Transport::Log => {
            tracing::info!("workers' confirmation links are logged (development sink)")
        }
        Transport::Http { .. } => {
            tracing::info!("workers' confirmation links go to the SMS gateway")
        }
    }
    let sink = notify.sink();
    Dispatcher::new(pool.clone(), clock.clone(), notify, sink).spawn(Duration::from_secs(2));
    Ok(())
}

/// Starts the job runner (bank outbox, purges; see [`crate::jobs`]), unless
/// `WAGEBRIDGE_JOBS=off` asks for an instance that only serves HTTP.
fn start_jobs(settings: &Settings, pool: &PgPool, clock: &Clock) {
    if !settings.jobs {
        tracing::info!(
            "background jobs are off (WAGEBRIDGE_JOBS=off): this instance only serves HTTP"
        );
        return;
    }
    let context = crate::jobs::JobContext {
        clock: clock.clone(),
        data_dir: settings.data_dir.clone(),
        instance: crate::jobs::instance::instance_id().to_owned(),
        bank_max_attempts: settings.bank_max_attempts,
    };
    crate::jobs::start(pool, crate::jobs::standard_jobs(&context));
}

/// The rustls server config when HTTPS is configured (see [`crate::tls`]).
/// `serve` calls it before starting anything, so a bad TLS setup fails at once.
pub fn tls_config(settings: &Settings) -> anyhow::Result<Option<rustls::ServerConfig>> {
    let Some(files) = settings.tls()? else {
        return Ok(None);
    };
    crate::tls::server_config(files.cert, files.key, files.client_ca).map(Some)
}
