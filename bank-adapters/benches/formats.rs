//! Criterion benchmarks of the bank-file formats, on seeded generated data:
//!
//! - `pain001_write_100k`: a 100,000-line wage batch written as
//!   pain.001.001.09 into a kept buffer (`write_pain001_into`); throughput
//!   in lines (`/lines`) and in bytes (`/bytes`), and the same into a fresh
//!   `String` each time (`/fresh_string`, lines);
//! - `camt053_parse_1m`: a 1,000,000-entry camt.053 (about 1.85 GB, generated
//!   once into memory) streamed through `read_cash_stream` with a sink that
//!   sums the amounts; throughput in bytes.
//!
//! `cargo bench -p bank-adapters --bench formats` (about three minutes on
//! two cores; it needs about 2 GB of memory for the statement). Set
//! `WB_BENCH_CAMT_ENTRIES` (e.g. 100000) for a quicker, smaller run.

use std::hint::black_box;
use std::time::Duration;

use bank_adapters::iso20022::{
    generate_camt053, generate_payment_batch, read_cash_stream, write_pain001, write_pain001_into,
    Pain001Version, StatementSink,
};
use bank_adapters::model::{Entry, Statement};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use rust_decimal::Decimal;

const LINES: usize = 100_000;
const SEED: u64 = 1;

fn pain001_write(c: &mut Criterion) {
    let batch = generate_payment_batch(LINES, SEED);
    let mut xml = String::new();
    write_pain001_into(&batch, Pain001Version::V09, &mut xml).expect("batch writes");
    let bytes = xml.len() as u64;
    let mut group = c.benchmark_group("pain001_write_100k");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(LINES as u64));
    group.bench_function("lines", |b| {
        b.iter(|| {
            write_pain001_into(black_box(&batch), Pain001Version::V09, &mut xml).expect("writes");
            black_box(xml.len())
        })
    });
    group.throughput(Throughput::BytesDecimal(bytes));
    group.bench_function("bytes", |b| {
        b.iter(|| {
            write_pain001_into(black_box(&batch), Pain001Version::V09, &mut xml).expect("writes");
            black_box(xml.len())
        })
    });
    group.throughput(Throughput::Elements(LINES as u64));
    group.measurement_time(Duration::from_secs(6));
    group.bench_function("fresh_string", |b| {
        b.iter(|| black_box(write_pain001(black_box(&batch), Pain001Version::V09).expect("writes")))
    });
    group.finish();
}

/// Sums what it is given, so no entry can be optimised away.
#[derive(Default)]
struct Sum {
    entries: u64,
    total: Decimal,
}

impl StatementSink for Sum {
    fn statement_start(&mut self, _statement: &Statement) {}

    fn entry(&mut self, entry: Entry) {
        self.entries += 1;
        self.total += entry.amount.value;
    }

    fn statement_end(&mut self, _statement: &Statement) {}
}

fn camt053_parse(c: &mut Criterion) {
    let entries = std::env::var("WB_BENCH_CAMT_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000usize);
    let mut xml = Vec::new();
    generate_camt053(&mut xml, entries, SEED).expect("statement generates");
    let name = if entries == 1_000_000 {
        "camt053_parse_1m".to_owned()
    } else {
        format!("camt053_parse_{entries}")
    };
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        // One parse of the 1M-entry file takes about 5 s here: ten of them.
        .measurement_time(Duration::from_secs_f64(
            (entries as f64 / 1e6 * 60.0).max(5.0),
        ));
    group.throughput(Throughput::BytesDecimal(xml.len() as u64));
    group.bench_function("stream", |b| {
        b.iter(|| {
            let mut sum = Sum::default();
            read_cash_stream(black_box(&xml[..]), &mut sum).expect("statement reads");
            assert_eq!(sum.entries, entries as u64);
            black_box(sum.total)
        })
    });
    group.finish();
}

criterion_group!(benches, pain001_write, camt053_parse);
criterion_main!(benches);
