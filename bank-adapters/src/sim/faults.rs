//! Faults the simulated bank can be told to commit, so a test can attack
//! the service the way a real bank link fails. Set in `bank-sim.toml`
//! (`[faults]`) or through the admin API's `PUT /faults`.
//!
//! No fault ever makes the bank book twice or lose a booking: faults only
//! touch what it *says* (late, never, twice, out of order, garbage) and when
//! it answers, never what its ledger records.

use serde::{Deserialize, Serialize};

/// Faults in effect; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// HTTPS: every protocol request is carried out, then answered only
    /// after this many milliseconds (a client with a shorter time-out sees
    /// a time-out although the bank took the message).
    pub timeout_ms: u64,
    /// File exchange (and HTTPS, whose messages go the same way): a payment
    /// file is left unanswered for this many rounds before it is executed.
    pub hold_rounds: u32,
    /// HTTPS: the next N protocol requests are answered 503 and not
    /// carried out; counts down.
    pub fail_next_n: u32,
    /// Payments are executed (the statement shows the debits) but their
    /// status report is never written.
    pub lose_answer: bool,
    /// Each status report is written twice (the same bytes under a second
    /// name).
    pub duplicate_status: bool,
    /// The final status report is written before an interim ACTC one for
    /// the same message.
    pub out_of_order: bool,
    /// The next round writes this many garbage files to the client; counts
    /// down to 0.
    pub malformed_next: u32,
}

/// What `GET /faults` shows and `PUT /faults` sets: the rejected cards and
/// the faults, as in `bank-sim.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSet {
    /// Cards answered RJCT AC04 (closed account).
    pub closed_cards: std::collections::BTreeSet<String>,
    /// Cards answered RJCT BE01 (name does not match).
    pub name_mismatch_cards: std::collections::BTreeSet<String>,
    pub faults: Faults,
}

/// The bytes of a garbage file: neither XML nor anything a reader accepts.
pub(super) fn garbage(index: u64) -> String {
    format!("<Document><BkToCstmrStmt>broken file {index} \u{0}")
}
