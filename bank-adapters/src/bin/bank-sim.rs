//! `bank-sim`: a simulated bank on a directory, for tests and the demo.
//! See `bank-adapters/README.md`; the logic is `bank_adapters::sim`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use bank_adapters::model::{AccountRef, Direction};
use bank_adapters::sim::{http, Sim, SimError};
use chrono::Utc;
use clap::{Parser, Subcommand};
use rust_decimal::Decimal;

#[derive(Parser)]
#[command(
    name = "bank-sim",
    about = "A simulated bank over the file exchange or HTTPS with mutual TLS"
)]
struct Cli {
    /// The simulator's directory (ledger, bank-sim.toml, to-bank/, from-bank/).
    #[arg(long, global = true)]
    dir: Option<PathBuf>,
    /// Run one round and exit.
    #[arg(long)]
    once: bool,
    /// Pause between rounds, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Also serve the HTTPS protocol here (needs --tls-cert, --tls-key, --client-ca).
    #[arg(long)]
    https: Option<SocketAddr>,
    /// The bank's server certificate (PEM).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// Its private key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// The CA that issues the clients' certificates (PEM); no other client connects.
    #[arg(long)]
    client_ca: Option<PathBuf>,
    /// Serve the admin API (plain HTTP) here, e.g. 127.0.0.1:8444.
    #[arg(long)]
    admin: Option<SocketAddr>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Credit a dedicated account from a payer (the owner's labour-cost transfer).
    Credit {
        #[arg(long)]
        account: String,
        #[arg(long)]
        amount: String,
        /// The payer's account number.
        #[arg(long)]
        from: String,
        #[arg(long)]
        from_name: Option<String>,
    },
    /// Debit a dedicated account to any other account (a misuse).
    Debit {
        #[arg(long)]
        account: String,
        #[arg(long)]
        amount: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        to_name: Option<String>,
    },
    /// Print the ledger as JSON.
    Ledger,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bank-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), SimError> {
    let Some(dir) = cli.dir else {
        return Err(SimError::Refused("需要 --dir DIR".to_owned()));
    };
    let sim = Sim::open(&dir)?;
    match cli.command {
        None if cli.https.is_some() || cli.admin.is_some() => {
            let https = match cli.https {
                Some(addr) => Some((addr, tls(&cli.tls_cert, &cli.tls_key, &cli.client_ca)?)),
                None => None,
            };
            let running = http::spawn(Sim::open(&dir)?, https, cli.admin)
                .map_err(|e| SimError::Refused(format!("无法监听 (cannot listen): {e}")))?;
            if let Some(addr) = running.https {
                eprintln!("bank-sim: HTTPS on https://{addr}");
            }
            if let Some(addr) = running.admin {
                eprintln!("bank-sim: admin API on http://{addr}");
            }
            poll(&sim, false, Duration::from_millis(cli.interval_ms))
        }
        None => poll(&sim, cli.once, Duration::from_millis(cli.interval_ms)),
        Some(Command::Ledger) => {
            let json = serde_json::to_string_pretty(&sim.ledger()?)
                .map_err(|e| SimError::Ledger(e.to_string()))?;
            println!("{json}");
            Ok(())
        }
        Some(Command::Credit {
            account,
            amount,
            from,
            from_name,
        }) => transfer(&sim, &account, Direction::Credit, &amount, from, from_name),
        Some(Command::Debit {
            account,
            amount,
            to,
            to_name,
        }) => transfer(&sim, &account, Direction::Debit, &amount, to, to_name),
    }
}

fn tls(
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
    client_ca: &Option<PathBuf>,
) -> Result<rustls::ServerConfig, SimError> {
    match (cert, key, client_ca) {
        (Some(cert), Some(key), Some(ca)) => http::tls_config(cert, key, ca),
        _ => Err(SimError::Refused(
            "--https 需要 --tls-cert、--tls-key 和 --client-ca (needs all three)".to_owned(),
        )),
    }
}

fn poll(sim: &Sim, once: bool, pause: Duration) -> Result<(), SimError> {
    loop {
        let summary = sim.round(Utc::now())?;
        if once || summary != Default::default() {
            let line =
                serde_json::to_string(&summary).map_err(|e| SimError::Ledger(e.to_string()))?;
            println!("{line}");
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(pause);
    }
}

fn transfer(
    sim: &Sim,
    account: &str,
    direction: Direction,
    amount: &str,
    other: String,
    other_name: Option<String>,
) -> Result<(), SimError> {
    let amount = Decimal::from_str(amount)
        .map_err(|_| SimError::Refused(format!("金额无效: {amount:?}")))?;
    let other = AccountRef {
        number: other,
        name: other_name,
        bank_code: None,
        bank_name: None,
    };
    let booking = sim.transfer(account, direction, amount, other, Utc::now())?;
    println!("{{\"booking_id\":\"{booking}\"}}");
    Ok(())
}
