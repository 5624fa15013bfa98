//! The `wagebridge` command: the service and its administration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use wagebridge::access::OrgKind;
use wagebridge::clock::Clock;
use wagebridge::config::{LogFormat, Settings};
use wagebridge::registry::organizations::OrganizationInput;
use wagebridge::server::{self, Database};
use wagebridge::{db, telemetry};

mod outbox_cli;

#[derive(Parser)]
#[command(
    name = "wagebridge",
    version,
    about = "Keeps migrant construction workers paid"
)]
struct Cli {
    /// TOML settings file (also WAGEBRIDGE_CONFIG); environment variables win over it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Log format (also WAGEBRIDGE_LOG_FORMAT).
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (and, without DATABASE_URL, a private PostgreSQL cluster).
    Serve {
        /// Address to listen on (also WAGEBRIDGE_BIND; default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// A business clock that an admin key sets (PUT /v1/admin/clock), for demos
        /// and replays; it starts at the real time and never moves backwards.
        #[arg(long, env = "WAGEBRIDGE_SIMULATED_CLOCK")]
        simulated_clock: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Bank files, for integration engineers.
    BankFile {
        #[command(subcommand)]
        command: BankFileCommand,
    },
    /// Bank connections.
    Bank {
        #[command(subcommand)]
        command: wagebridge::banking::cli::BankCommand,
    },
    /// TLS certificates.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// The bank outbox: files waiting to be handed to banks.
    Outbox {
        #[command(subcommand)]
        command: outbox_cli::OutboxCommand,
    },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Write a development CA, a server certificate and client certificates (PEM; keys 0600).
    Dev {
        /// Directory to write into (created if missing; existing files are never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// A client certificate with this name (e.g. bank-102); repeat for several.
        #[arg(long = "client")]
        clients: Vec<String>,
        /// A name or IP address the server certificate is valid for; repeat for several.
        #[arg(long = "server-name", default_values = ["localhost", "127.0.0.1"])]
        server_names: Vec<String>,
        /// Days the certificates are valid.
        #[arg(long, default_value_t = 365)]
        days: u64,
    },
    /// Register a bank's client certificate (PEM, X.509 v3): presented over HTTPS, it
    /// identifies the bank as its API key would. Prints the SHA-256 fingerprint.
    Add {
        /// The bank's USCC.
        #[arg(long)]
        org: String,
        /// The bank's certificate (the first one in the file, when it holds a chain).
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum BankFileCommand {
    /// Detect a bank file's dialect, message and version and print its content as JSON.
    Inspect { file: PathBuf },
    /// Check an ISO 20022 file against its official XSD (needs xmllint) and say where it fails.
    Validate { file: PathBuf },
    /// List the files banks sent, newest first (from the database), with status and reason.
    List {
        /// received, applied or quarantined.
        #[arg(long)]
        status: Option<String>,
        /// Files per page (1–1,000).
        #[arg(long)]
        limit: Option<u32>,
        /// The cursor the previous page printed.
        #[arg(long)]
        cursor: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Register an organisation.
    Add {
        #[arg(long, value_parser = parse_kind)]
        kind: OrgKind,
        #[arg(long)]
        name: String,
        /// 统一社会信用代码 (18 characters).
        #[arg(long)]
        uscc: String,
        /// GB/T 2260 region code; required for a regulator.
        #[arg(long)]
        region: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Issue a new API key for an organisation; prints the key, alone, once.
    Issue {
        /// The organisation's USCC.
        #[arg(long)]
        org: String,
    },
}

fn parse_kind(s: &str) -> Result<OrgKind, String> {
    s.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a line; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn bank_file(command: BankFileCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        BankFileCommand::Inspect { file } => {
            use bank_adapters::dialect::{inspect_to, InspectError};
            let input = std::fs::File::open(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            // Streams: a 1 GB statement is described entry by entry, in flat memory.
            match inspect_to(input, &mut out) {
                Err(InspectError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                result => result.with_context(|| format!("{} cannot be read", file.display())),
            }
        }
        BankFileCommand::Validate { file } => {
            bank_adapters::iso20022::validate_with_xmllint(&file)
                .with_context(|| format!("{} does not validate", file.display()))?;
            print_stdout(&format!("{}: valid", file.display()))
        }
        BankFileCommand::List {
            status,
            limit,
            cursor,
            json,
        } => {
            let page = wagebridge::paging::PageQuery { limit, cursor }.page()?;
            // Kept until the end: dropping it stops a private cluster.
            let database = Database::open(settings)?;
            let pool = database.migrated_pool(1)?;
            let mut conn = pool.get()?;
            let text = wagebridge::banking::inbound::list::print_list(
                &mut conn,
                status.as_deref(),
                page,
                json,
            )?;
            print_stdout(text.trim_end())
        }
    }
}

fn certs(command: CertsCommand, settings: &Settings) -> anyhow::Result<()> {
    let (out, clients, server_names, days) = match command {
        CertsCommand::Dev {
            out,
            clients,
            server_names,
            days,
        } => (out, clients, server_names, days),
        CertsCommand::Add { org, file } => return add_client_certificate(settings, &org, &file),
    };
    let request = wagebridge::certs::DevRequest {
        server_names,
        clients,
        valid_days: days,
    };
    let files = wagebridge::certs::write_dev_set(&out, &request)?;
    for file in files {
        eprintln!("wrote {}", file.display());
    }
    eprintln!("development certificates only: keep the *.key files private, never commit them");
    Ok(())
}

/// `certs add`: registers a bank's client certificate and prints its fingerprint, alone.
fn add_client_certificate(
    settings: &Settings,
    uscc: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    use db::client_certificates::{self, CertificateToRegister, Registered};
    // The business clock is the machine's until a simulated one exists; expiry
    // is checked against it because the TLS handshake checks the real time too.
    let now = chrono::Utc::now();
    let cert = wagebridge::tls::read_client_certificate(file, now)?;
    let database = Database::open(settings)?;
    let pool = database.migrated_pool(1)?;
    let mut conn = pool.get()?;
    let uscc = uscc.trim().to_ascii_uppercase();
    let wanted = CertificateToRegister {
        fingerprint: &cert.fingerprint,
        subject: &cert.subject,
        not_after: cert.not_after,
    };
    let (org, outcome) = client_certificates::register(&mut conn, &uscc, &wanted, now)?;
    let what = match outcome {
        Registered::New(_) => "registered",
        Registered::Already(_) => "already registered",
    };
    eprintln!(
        "{what} the client certificate \"{}\" (valid until {}) for {} ({})",
        cert.subject, cert.not_after, org.name, org.uscc
    );
    print_stdout(&wagebridge::tls::fingerprint_text(&cert.fingerprint))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(format) = cli.log_format {
        settings.log_format = format;
    }
    telemetry::init(settings.log_format);

    match cli.command {
        // Needs no database, but for `bank-file list`.
        Command::BankFile { command } => bank_file(command, &settings),
        // `certs dev` needs no database; `certs add` opens it.
        Command::Certs { command } => certs(command, &settings),
        Command::Bank { command } => {
            print_stdout(&wagebridge::banking::cli::run(command, &settings)?)
        }
        Command::Serve {
            bind,
            simulated_clock,
        } => {
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            // A bad TLS setup fails before a database is started.
            server::tls_config(&settings)?;
            let clock = if simulated_clock {
                tracing::warn!("the business clock is simulated: an admin key can set it");
                Clock::simulated(chrono::Utc::now())
            } else {
                Clock::real()
            };
            let database = Database::open(&settings)?;
            let pool = database.migrated_pool(16)?;
            let runtime = tokio::runtime::Runtime::new()?;
            let result = runtime.block_on(server::serve(&settings, pool, clock));
            drop(runtime);
            // Dropping the database stops a cluster we started.
            drop(database);
            result
        }
        Command::Outbox { command } => outbox_cli::run(command, &settings),
        Command::Migrate => {
            let database = Database::open(&settings)?;
            database.migrated_pool(1)?;
            eprintln!("migrations are up to date");
            Ok(())
        }
        Command::Org {
            command:
                OrgCommand::Add {
                    kind,
                    name,
                    uscc,
                    region,
                },
        } => {
            let input = OrganizationInput::parse(kind, &name, &uscc, region.as_deref()).map_err(
                |e| match e.problem() {
                    Some(p) => anyhow::anyhow!(
                        "{}{}",
                        p.field
                            .as_ref()
                            .map(|f| format!("{f}: "))
                            .unwrap_or_default(),
                        p.detail
                    ),
                    None => anyhow::Error::new(e),
                },
            )?;
            let database = Database::open(&settings)?;
            let pool = database.migrated_pool(1)?;
            let mut conn = pool.get()?;
            let org = input
                .store(&mut conn, None, Clock::real().now())
                .map_err(|e| match e.problem() {
                    Some(p) => anyhow::anyhow!("{}", p.detail),
                    None => anyhow::Error::new(e),
                })?;
            eprintln!("registered {} {} ({})", org.kind, org.name, org.uscc);
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Issue { org },
        } => {
            let database = Database::open(&settings)?;
            let pool = database.migrated_pool(1)?;
            let mut conn = pool.get()?;
            let uscc = org.trim().to_ascii_uppercase();
            let org = db::organizations::find_by_uscc(&mut conn, &uscc)?.with_context(|| {
                format!("no organisation with USCC {uscc} is registered (wagebridge org add)")
            })?;
            // The command line records real times: the simulated clock lives in a server.
            let key = db::organizations::issue_key(&mut conn, org.id, Clock::real().now())?;
            eprintln!(
                "issued key {}… for {} ({}); it is shown only now",
                key.prefix, org.name, org.kind
            );
            print_stdout(&key.secret)
        }
    }
}
