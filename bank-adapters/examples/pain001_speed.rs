//! Writes a seeded wage batch (100,000 lines by default) as pain.001 in both
//! versions and prints lines/s and MB/s (best of five, in memory): into a
//! fresh `String` each time (`write_pain001`), and into one buffer reused
//! from batch to batch (`write_pain001_into`; no page faults for a new
//! 80 MB allocation, which is about a third of the fresh time).
//!
//! ```text
//! cargo run --release -p bank-adapters --example pain001_speed -- [LINES] [SEED]
//!     [--write FILE]       also write the pain.001.001.09 document to FILE
//!     [--batch-json FILE]  also write the batch itself as JSON (for other tools)
//! ```
//!
//! The last line for each version, `RESULT pain.001.001.09 lines=… bytes=…
//! seconds=… fresh_seconds=…` (seconds: reused buffer), is for scripts
//! (benches/side_by_side.sh).

use std::time::Instant;

use bank_adapters::iso20022::{
    generate_payment_batch, write_pain001, write_pain001_into, Pain001Version,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut numbers = Vec::new();
    let mut write_to = None;
    let mut batch_json = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--write" => write_to = Some(args.next().ok_or("--write needs a file")?),
            "--batch-json" => batch_json = Some(args.next().ok_or("--batch-json needs a file")?),
            _ => numbers.push(arg.parse::<u64>()?),
        }
    }
    let lines = numbers.first().copied().unwrap_or(100_000) as usize;
    let seed = numbers.get(1).copied().unwrap_or(1);
    let batch = generate_payment_batch(lines, seed);
    if let Some(path) = &batch_json {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        serde_json::to_writer(file, &batch)?;
    }
    let mut reused = String::new();
    for version in [Pain001Version::V03, Pain001Version::V09] {
        let mut fresh_best = f64::MAX;
        let mut reused_best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            let xml = write_pain001(&batch, version)?;
            fresh_best = fresh_best.min(started.elapsed().as_secs_f64());
            drop(xml);
            let started = Instant::now();
            write_pain001_into(&batch, version, &mut reused)?;
            reused_best = reused_best.min(started.elapsed().as_secs_f64());
        }
        let bytes = reused.len();
        for (how, best) in [("fresh String", fresh_best), ("reused buffer", reused_best)] {
            println!(
                "{} ({how}): {lines} lines, {:.1} MB in {:.1} ms: {:.0} lines/s, {:.0} MB/s",
                version.message_name(),
                bytes as f64 / 1e6,
                best * 1000.0,
                lines as f64 / best,
                bytes as f64 / 1e6 / best
            );
        }
        println!(
            "RESULT {} lines={lines} bytes={bytes} seconds={reused_best:.6} fresh_seconds={fresh_best:.6}",
            version.message_name(),
        );
        if let (Pain001Version::V09, Some(path)) = (version, &write_to) {
            std::fs::write(path, reused.as_bytes())?;
        }
    }
    Ok(())
}
