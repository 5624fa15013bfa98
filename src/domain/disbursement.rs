//! One attempt to pay one payroll line, and what each answer from the bank
//! does to it: the state machine the database's trigger also guards.
//!
//! An attempt is `reserved` when its batch is made (the money is held, as a
//! pending transfer in TigerBeetle), `sent` once the file is handed to the
//! bank, `accepted` or `unknown` while the bank works on it, and ends
//! `settled` (posted: the money left the account) or `rejected` (voided:
//! the line may be paid in a new attempt). Answers may come twice, out of
//! order or not at all; [`next`] decides each one from the current state
//! alone, so applying the same answer again changes nothing.

use std::fmt;
use std::str::FromStr;

/// Where one attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttemptState {
    Reserved,
    Sent,
    Accepted,
    Unknown,
    Settled,
    Rejected,
}

impl AttemptState {
    pub const ALL: [AttemptState; 6] = [
        AttemptState::Reserved,
        AttemptState::Sent,
        AttemptState::Accepted,
        AttemptState::Unknown,
        AttemptState::Settled,
        AttemptState::Rejected,
    ];

    /// The text stored in `disbursement_lines.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptState::Reserved => "reserved",
            AttemptState::Sent => "sent",
            AttemptState::Accepted => "accepted",
            AttemptState::Unknown => "unknown",
            AttemptState::Settled => "settled",
            AttemptState::Rejected => "rejected",
        }
    }

    /// Settled and rejected never change again.
    pub fn is_final(self) -> bool {
        matches!(self, AttemptState::Settled | AttemptState::Rejected)
    }

    /// Holds the payroll line: it may not be in another attempt.
    pub fn holds_line(self) -> bool {
        self != AttemptState::Rejected
    }

    /// Its amount is reserved on the account and not yet debited.
    pub fn is_reserved_money(self) -> bool {
        !self.is_final()
    }
}

impl fmt::Display for AttemptState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored state text that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown attempt state {0:?}")]
pub struct UnknownState(pub String);

impl FromStr for AttemptState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AttemptState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// What the bank (or our own dispatcher) said about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// The file holding it was handed to the bank.
    Dispatched,
    /// A status report: the bank has it and is working on it (ISO 20022
    /// ACTC/ACCP/ACSP/ACWC/PDNG; ICBC pending results).
    Accepted,
    /// A status report: the outcome is not known, ask again (ICBC 98).
    Unknown,
    /// A status report: paid (ISO 20022 ACSC/ACCC; ICBC 7).
    Settled,
    /// A status report: refused, with a reason (ISO 20022 RJCT; ICBC 6/8).
    Rejected,
    /// A statement shows the debit for this attempt, booked.
    Debited,
}

/// What a signal does to an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The attempt moves to this state.
    To(AttemptState),
    /// Nothing to do: a repeated or stale answer.
    Unchanged,
    /// The answer contradicts a final state (a rejection after the debit was
    /// booked, a debit after a rejection): nothing changes, and it is
    /// recorded as a finding for people to look at.
    Conflict(&'static str),
}

/// The one rule for every answer.
pub fn next(state: AttemptState, signal: Signal) -> Transition {
    use AttemptState as S;
    use Signal as G;
    use Transition::{Conflict, To, Unchanged};
    match (state, signal) {
        (S::Reserved, G::Dispatched) => To(S::Sent),
        (_, G::Dispatched) => Unchanged,

        (S::Reserved | S::Sent | S::Unknown, G::Accepted) => To(S::Accepted),
        // A late "accepted" after the outcome is stale, not a contradiction:
        // the bank accepted the line and then decided it.
        (S::Accepted | S::Settled | S::Rejected, G::Accepted) => Unchanged,

        (S::Reserved | S::Sent | S::Accepted, G::Unknown) => To(S::Unknown),
        (S::Unknown | S::Settled | S::Rejected, G::Unknown) => Unchanged,

        (S::Settled, G::Settled | G::Debited) => Unchanged,
        (S::Rejected, G::Settled) => Conflict("SETTLED_AFTER_REJECTED"),
        (S::Rejected, G::Debited) => Conflict("DEBIT_AFTER_REJECTED"),
        (_, G::Settled | G::Debited) => To(S::Settled),

        (S::Rejected, G::Rejected) => Unchanged,
        (S::Settled, G::Rejected) => Conflict("REJECTED_AFTER_SETTLED"),
        (_, G::Rejected) => To(S::Rejected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNALS: [Signal; 6] = [
        Signal::Dispatched,
        Signal::Accepted,
        Signal::Unknown,
        Signal::Settled,
        Signal::Rejected,
        Signal::Debited,
    ];

    #[test]
    fn a_final_state_never_changes() {
        for state in [AttemptState::Settled, AttemptState::Rejected] {
            for signal in SIGNALS {
                assert!(
                    !matches!(next(state, signal), Transition::To(_)),
                    "{state} moved on {signal:?}"
                );
            }
        }
    }

    #[test]
    fn the_same_answer_twice_changes_nothing_the_second_time() {
        for state in AttemptState::ALL {
            for signal in SIGNALS {
                if let Transition::To(after) = next(state, signal) {
                    assert!(
                        !matches!(next(after, signal), Transition::To(_)),
                        "{state} → {after} → moved again on {signal:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_goes_back_to_reserved() {
        for state in AttemptState::ALL {
            for signal in SIGNALS {
                assert_ne!(next(state, signal), Transition::To(AttemptState::Reserved));
            }
        }
    }

    #[test]
    fn a_debit_settles_even_without_a_status() {
        assert_eq!(
            next(AttemptState::Sent, Signal::Debited),
            Transition::To(AttemptState::Settled)
        );
        assert_eq!(
            next(AttemptState::Unknown, Signal::Debited),
            Transition::To(AttemptState::Settled)
        );
    }

    #[test]
    fn states_round_trip_through_their_text() {
        for state in AttemptState::ALL {
            assert_eq!(state.as_str().parse::<AttemptState>(), Ok(state));
        }
        assert!("paid".parse::<AttemptState>().is_err());
    }
}
