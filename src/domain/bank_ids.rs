//! Ids we give the bank: a batch's message id and each attempt's end-to-end
//! id. As TigerBeetle's ids, they are 128 bits: the business time in
//! milliseconds (48 bits, so they sort by time) and 80 random bits, so two
//! service instances never make the same one without asking each other. They
//! are written in Crockford base32 (26 characters) behind a one-letter tag,
//! which fits ISO 20022's 35-character `Max35Text` and ICBC's `fSeqno`/`Ref`.

use chrono::{DateTime, Utc};

/// Crockford's base32 alphabet: no I, L, O or U, so ids read aloud safely.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What an id names; its tag is the id's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// A batch's message id (pain.001 `MsgId`, ICBC `fSeqno`).
    Message,
    /// One line attempt's end-to-end id (pain.001 `EndToEndId`, ICBC `Ref`).
    EndToEnd,
}

impl IdKind {
    fn tag(self) -> char {
        match self {
            IdKind::Message => 'M',
            IdKind::EndToEnd => 'E',
        }
    }
}

/// A new id of this kind made at `at` (the business clock's now).
pub fn new_id(kind: IdKind, at: DateTime<Utc>) -> String {
    compose(kind, at, rand::random::<u128>())
}

/// The id for `at` and these random bits (only the low 80 are used).
pub fn compose(kind: IdKind, at: DateTime<Utc>, random: u128) -> String {
    // Times before 1970 do not occur on the business clock; clamp rather than wrap.
    let millis = u128::from(at.timestamp_millis().max(0) as u64) & ((1 << 48) - 1);
    let value = (millis << 80) | (random & ((1 << 80) - 1));
    let mut id = String::with_capacity(27);
    id.push(kind.tag());
    for i in (0..26).rev() {
        // 26 × 5 = 130 bits: the first character carries the top 3 bits.
        let digit = ((value >> (i * 5)) & 0x1f) as usize;
        id.push(char::from(ALPHABET[digit]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_fit_the_banks_fields_and_sort_by_time() {
        let early = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        let late = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 1).unwrap();
        let a = compose(IdKind::Message, early, u128::MAX);
        let b = compose(IdKind::Message, late, 0);
        assert_eq!(a.len(), 27);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(a < b, "{a} should sort before {b}");
        assert!(a.starts_with('M'));
        assert!(compose(IdKind::EndToEnd, early, 1).starts_with('E'));
    }

    #[test]
    fn fresh_ids_differ() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        assert_ne!(new_id(IdKind::EndToEnd, at), new_id(IdKind::EndToEnd, at));
    }
}
