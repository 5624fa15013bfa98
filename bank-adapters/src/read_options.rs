//! How a reader interprets what a file leaves open: today, the UTC offset
//! of date-times written without one.
//!
//! ISO 20022's `xs:dateTime` may be written without an offset
//! (`2026-11-05T10:15:00`, "local time", left to bilateral agreement), and
//! ICBC's `TranDate`+`TranTime` and history `Date`+`Time` never carry one.
//! Such a time is read at [`ReadOptions::utc_offset`], the connection's
//! time zone; a date-time written with an offset or `Z` is read as written.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

/// Beijing time, UTC+8 all year (China has no daylight saving time).
const BEIJING_SECONDS: i32 = 8 * 3600;

/// Options every `*_with` reader takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The offset of date-times written without one. Default +08:00
    /// (Asia/Shanghai, which has had no daylight saving time since 1991,
    /// so a fixed offset is exact).
    pub utc_offset: FixedOffset,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            utc_offset: FixedOffset::east_opt(BEIJING_SECONDS)
                .expect("UTC+8 is inside FixedOffset's ±24 h range"),
        }
    }
}

impl ReadOptions {
    /// Read offset-less date-times at `utc_offset`.
    pub fn at_offset(utc_offset: FixedOffset) -> Self {
        ReadOptions { utc_offset }
    }

    /// Read offset-less date-times as UTC (what the ISO readers did before
    /// they took options).
    pub fn utc() -> Self {
        ReadOptions {
            utc_offset: FixedOffset::east_opt(0).expect("UTC is a valid offset"),
        }
    }

    /// A local date-time at this offset, as an instant. A fixed offset has
    /// no gaps or folds, so every local time maps to exactly one instant.
    pub fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.utc_offset.from_local_datetime(&local).single() {
            Some(at) => at.with_timezone(&Utc),
            // Unreachable for a FixedOffset; fall back to subtracting it.
            None => (local
                - chrono::Duration::seconds(i64::from(self.utc_offset.local_minus_utc())))
            .and_utc(),
        }
    }
}
