//! Two `wagebridge serve` instances on one database, both dispatching bank
//! files and taking in the bank's answers, while the contractor's requests
//! go to either: every approved line is paid exactly once, none is stuck.
//! Some months are disbursed through both instances at the same moment.

mod bank_link_rig;
mod common;

use std::time::Duration;

use bank_link_rig::{free_port, months, Api, Rig};
use rust_decimal::Decimal;

#[test]
fn two_instances_pay_every_line_once() {
    let funds = Decimal::from(50_000_000);
    let mut rig = Rig::new(25, funds);
    let (p1, p2) = (free_port(), free_port());
    let first = rig.serve(p1);
    let second = rig.serve(p2);
    rig.set_up(&Api::new(p1));

    let periods = months("2025-01", 12);
    let threads: Vec<_> = [p1, p2]
        .into_iter()
        .enumerate()
        .map(|(i, port)| {
            let payer = rig.payer();
            let periods = periods.clone();
            std::thread::spawn(move || {
                let api = Api::new(port);
                for (n, period) in periods.iter().enumerate() {
                    // Half the months are paid through one instance each; the
                    // other half through both at once (the same requests racing).
                    if n % 2 == 0 || n % 4 == i * 2 + 1 {
                        payer.pay_month(&api, period);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a contractor thread");
    }
    if let Err(stuck) = rig.wait_until_quiet(Duration::from_secs(180)) {
        panic!("{stuck}\n{}", rig.log_tail());
    }
    let figures = rig.verify_exactly_once(funds);
    drop((first, second));
    for (what, value) in figures {
        println!("  {what}: {value}");
    }
}
