//! Streaming proof: generates a seeded camt.053 on the fly and reads it
//! through `read_cash_stream`, printing throughput and peak memory.
//!
//! `cargo run --release -p bank-adapters --example camt_stream -- [ENTRIES] [SEED]`
//! (generated while read), `... -- --generate ENTRIES [SEED] > statement.xml`
//! (write one), `... -- --file statement.xml` (time reading alone).
//!
//! The line `RESULT camt.053 entries=… bytes=… seconds=… peak_rss_kib=…` is
//! for scripts (benches/side_by_side.sh).

use std::time::Instant;

use bank_adapters::iso20022::{camt053_source, generate_camt053, read_cash_stream, StatementSink};
use bank_adapters::model::{Direction, Entry, EntryStatus, Statement};
use rust_decimal::Decimal;

#[derive(Default)]
struct Reconcile {
    opening: Decimal,
    closing: Decimal,
    booked_net: Decimal,
    entries: u64,
}

impl StatementSink for Reconcile {
    fn statement_start(&mut self, statement: &Statement) {
        self.opening = statement
            .opening_balance
            .as_ref()
            .map_or(Decimal::ZERO, |b| b.amount.value);
        self.closing = statement
            .closing_balance
            .as_ref()
            .map_or(Decimal::ZERO, |b| b.amount.value);
    }

    fn entry(&mut self, entry: Entry) {
        self.entries += 1;
        if entry.status == EntryStatus::Booked {
            match entry.direction {
                Direction::Credit => self.booked_net += entry.amount.value,
                Direction::Debit => self.booked_net -= entry.amount.value,
            }
        }
    }

    fn statement_end(&mut self, _statement: &Statement) {}
}

/// Counts the bytes the reader pulls, to report the document's size.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    let input: Box<dyn std::io::Read> = match first.as_deref() {
        Some("--generate") => {
            let entries: usize = args.next().ok_or("--generate needs ENTRIES")?.parse()?;
            let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            generate_camt053(stdout, entries, seed)?;
            return Ok(());
        }
        Some("--file") => Box::new(std::fs::File::open(
            args.next().ok_or("--file needs a path")?,
        )?),
        _ => {
            let entries: usize = first.map(|a| a.parse()).transpose()?.unwrap_or(1_000_000);
            let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
            Box::new(camt053_source(entries, seed))
        }
    };
    let started = Instant::now();
    let mut source = Counted {
        inner: input,
        bytes: 0,
    };
    let mut sink = Reconcile::default();
    read_cash_stream(
        std::io::BufReader::with_capacity(256 * 1024, &mut source),
        &mut sink,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} entries, {:.1} MiB of XML read in {:.2} s ({:.0} entries/s, {:.1} MiB/s); peak RSS {:.1} MiB",
        sink.entries,
        source.bytes as f64 / 1048576.0,
        seconds,
        sink.entries as f64 / seconds,
        source.bytes as f64 / 1048576.0 / seconds,
        peak_mib()
    );
    println!(
        "RESULT camt.053 entries={} bytes={} seconds={seconds:.6} peak_rss_kib={:.0}",
        sink.entries,
        source.bytes,
        peak_mib() * 1024.0
    );
    let chains = sink.opening + sink.booked_net == sink.closing;
    println!(
        "opening {} + booked {} = {} (stated closing {}): {}",
        sink.opening,
        sink.booked_net,
        sink.opening + sink.booked_net,
        sink.closing,
        if chains { "chains" } else { "DOES NOT CHAIN" }
    );
    if !chains {
        return Err("balances do not chain".into());
    }
    Ok(())
}
