//! `bank-file inspect` without the service around it, to measure its memory:
//!
//! `cargo run --release -p bank-adapters --example inspect -- FILE` streams
//! (`dialect::inspect_to`, what `wagebridge bank-file inspect` runs);
//! `... -- --in-memory FILE` reads the whole file and builds the whole JSON
//! value first (`dialect::inspect`, what the command did before). Run it
//! under `/usr/bin/time -v` for the peak RSS; the JSON goes to stdout.

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use bank_adapters::dialect::{inspect, inspect_to};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (in_memory, path) = match args.as_slice() {
        [flag, path] if flag == "--in-memory" => (true, path),
        [path] => (false, path),
        _ => {
            eprintln!("usage: inspect [--in-memory] FILE");
            return ExitCode::FAILURE;
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = if in_memory {
        std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| inspect(&bytes).map_err(|e| e.to_string()))
            .and_then(|value| serde_json::to_string_pretty(&value).map_err(|e| e.to_string()))
            .and_then(|text| writeln!(out, "{text}").map_err(|e| e.to_string()))
    } else {
        std::fs::File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|file| inspect_to(file, &mut out).map_err(|e| e.to_string()))
    };
    match result.and_then(|()| out.flush().map_err(|e| e.to_string())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{path}: {e}");
            ExitCode::FAILURE
        }
    }
}
