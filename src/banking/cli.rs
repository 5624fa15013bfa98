//! `wagebridge bank …`: bank connections from the command line, through the
//! same use case as `PUT /v1/bank-connections/{bank_uscc}`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{ArgGroup, Subcommand};

use crate::banking::config::TransportConfig;
use crate::banking::connections;
use crate::clock::Clock;
use crate::config::Settings;
use crate::error::AppError;
use crate::server::Database;

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Connect a bank (an organisation of kind bank): its codes, transport and dialect.
    /// Run again to replace the settings.
    #[command(group(ArgGroup::new("transport").required(true).args(["file_exchange_outbox", "https_url"])))]
    Add {
        /// The bank's USCC.
        #[arg(long)]
        uscc: String,
        /// A wage-account bank code this connection serves; repeat for several.
        #[arg(long = "bank-code", required = true)]
        bank_codes: Vec<String>,
        /// File exchange: the directory we write batches into.
        #[arg(long, requires = "file_exchange_inbox")]
        file_exchange_outbox: Option<PathBuf>,
        /// File exchange: the directory the bank writes into.
        #[arg(long, requires = "file_exchange_outbox")]
        file_exchange_inbox: Option<PathBuf>,
        /// HTTPS with mutual TLS: the bank's URL.
        #[arg(long, requires_all = ["client_cert", "client_key", "ca"], conflicts_with = "file_exchange_outbox")]
        https_url: Option<String>,
        /// Our client certificate (PEM).
        #[arg(long)]
        client_cert: Option<PathBuf>,
        /// Its private key (PEM); referenced by path, never stored.
        #[arg(long)]
        client_key: Option<PathBuf>,
        /// The CA that issued the bank's server certificate (PEM).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// The dialect as JSON (default `{"dialect":"iso20022"}`).
        #[arg(long)]
        dialect_json: Option<String>,
    },
}

/// A refusal as one line: the field, then the reason.
fn refusal(e: AppError) -> anyhow::Error {
    match e.problem() {
        Some(p) => anyhow::anyhow!(
            "{}{}",
            p.field
                .as_ref()
                .map(|f| format!("{f}: "))
                .unwrap_or_default(),
            p.detail
        ),
        None => anyhow::Error::new(e),
    }
}

/// Runs a `bank` subcommand; prints the stored connection as JSON.
pub fn run(command: BankCommand, settings: &Settings) -> anyhow::Result<String> {
    let BankCommand::Add {
        uscc,
        bank_codes,
        file_exchange_outbox,
        file_exchange_inbox,
        https_url,
        client_cert,
        client_key,
        ca,
        dialect_json,
    } = command;
    let transport = match (file_exchange_outbox, file_exchange_inbox, https_url) {
        (Some(outbox), Some(inbox), None) => TransportConfig::FileExchange { outbox, inbox },
        (None, None, Some(url)) => TransportConfig::Https {
            url,
            client_certificate: client_cert
                .context("--client-cert is required with --https-url")?,
            client_key: client_key.context("--client-key is required with --https-url")?,
            ca_certificate: ca.context("--ca is required with --https-url")?,
            timeout_ms: crate::banking::config::DEFAULT_TIMEOUT_MS,
        },
        _ => anyhow::bail!(
            "give either --file-exchange-outbox and --file-exchange-inbox, or --https-url"
        ),
    };
    let dialect = dialect_json
        .map(|text| serde_json::from_str(&text).context("--dialect-json is not JSON"))
        .transpose()?;
    let input = connections::cli_input(bank_codes, transport, dialect).map_err(refusal)?;
    let database = Database::open(settings)?;
    let pool = database.migrated_pool(1)?;
    let mut conn = pool.get()?;
    let uscc = uscc.trim().to_ascii_uppercase();
    // The command line records real times: the simulated clock lives in a server.
    let outcome =
        connections::put(&mut conn, &uscc, None, &input, Clock::real().now()).map_err(refusal)?;
    eprintln!(
        "{} the connection of {} ({}), revision {}",
        if outcome.created {
            "created"
        } else {
            "replaced"
        },
        outcome.view.bank_name,
        outcome.view.bank_uscc,
        outcome.view.revision
    );
    Ok(serde_json::to_string_pretty(&outcome.view)?)
}
