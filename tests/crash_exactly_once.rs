//! Exactly once, through crashes: the real `wagebridge serve` is killed
//! with SIGKILL at random moments (while it starts, creates batches,
//! dispatches bank files and takes in the bank's answers and statements),
//! at least 200 times, and restarted each time, while a contractor keeps
//! submitting, approving and disbursing monthly payrolls through it. At
//! the end the bank simulator's own books are the judge: every approved
//! line paid exactly once, nothing paid that no payroll asked for, the
//! balances equal, no file the bank sent lost.
//!
//! `WAGEBRIDGE_CRASH_KILLS` (default 200) and `WAGEBRIDGE_CRASH_SEED` fix
//! the run; the seed is printed so a failure can be replayed.

mod bank_link_rig;
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bank_link_rig::{free_port, months, Api, Rig};
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

const WORKERS: u32 = 30;
const MONTHS: usize = 46;

#[test]
fn every_approved_line_is_paid_exactly_once_through_200_kills() {
    let kills_wanted: u32 = std::env::var("WAGEBRIDGE_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("WAGEBRIDGE_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test: seed {seed}, {kills_wanted} kills wanted");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let funds = Decimal::from(100_000_000);

    let mut rig = Rig::new(WORKERS, funds);
    let port = free_port();
    let api = Api::new(port);
    {
        let _first = rig.serve(port);
        rig.set_up(&api);
    }
    let started = Instant::now();

    // The contractor's side, month after month, through whatever happens to the service.
    let done = Arc::new(AtomicBool::new(false));
    let months_paid = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let driver = {
        let done = done.clone();
        let months_paid = months_paid.clone();
        let contractor = rig.contractor.clone();
        let workers = rig.workers.clone();
        let port = api.port.clone();
        std::thread::spawn(move || {
            let api = Api { port };
            let view = bank_link_rig::MonthPayer {
                contractor,
                workers,
            };
            for period in months("2023-01", MONTHS) {
                view.pay_month(&api, &period);
                months_paid.fetch_add(1, Ordering::Relaxed);
            }
            done.store(true, Ordering::Relaxed);
        })
    };

    let mut kills = 0u32;
    let mut kills_in_flight = 0u32;
    while kills < kills_wanted || !done.load(Ordering::Relaxed) {
        let mut instance = rig.spawn(port);
        std::thread::sleep(Duration::from_millis(rng.gen_range(50..900)));
        instance.kill();
        kills += 1;
        if rig.in_flight() {
            kills_in_flight += 1;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1500),
            "the crash loop is taking too long ({kills} kills, {} months paid)\n{}",
            months_paid.load(Ordering::Relaxed),
            rig.log_tail()
        );
    }
    let last = rig.serve(port);
    driver.join().expect("the contractor's side");
    if let Err(stuck) = rig.wait_until_quiet(Duration::from_secs(300)) {
        panic!("after {kills} kills: {stuck}\n{}", rig.log_tail());
    }
    let figures = rig.verify_exactly_once(funds);
    drop(last);
    println!(
        "crash test: {kills} SIGKILLs ({kills_in_flight} with money or files in flight), \
         {} months paid, {:.0?}",
        months_paid.load(Ordering::Relaxed),
        started.elapsed()
    );
    for (what, value) in figures {
        println!("  {what}: {value}");
    }
}
