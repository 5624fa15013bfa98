//! The business clock: where every recorded business time (created, submitted,
//! confirmed, approved, recorded) and every "today" (future birth dates, periods,
//! attendance days, paydays) comes from.
//!
//! Real by default. A simulated clock stands where it was last set and only
//! moves forward, so tests, demos and replays of a month see the dates they
//! choose instead of the machine's. It must not be read from anywhere but here.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

use crate::error::{AppError, ErrorCode};

/// Asia/Shanghai: UTC+8 all year (China keeps no daylight saving time).
pub fn shanghai() -> FixedOffset {
    // 8 hours is well inside FixedOffset's ±24 h, so `east_opt` cannot fail here.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// The application's clock; cheap to clone, shared by every worker thread.
#[derive(Debug, Clone)]
pub struct Clock {
    simulated: Option<Arc<RwLock<DateTime<Utc>>>>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::real()
    }
}

impl Clock {
    /// The machine's clock.
    pub fn real() -> Clock {
        Clock { simulated: None }
    }

    /// A clock standing at `now` until an admin moves it forward.
    pub fn simulated(now: DateTime<Utc>) -> Clock {
        Clock {
            simulated: Some(Arc::new(RwLock::new(now))),
        }
    }

    pub fn is_simulated(&self) -> bool {
        self.simulated.is_some()
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.simulated {
            // A poisoned lock still holds a valid time: a writer cannot panic halfway.
            Some(at) => *at.read().unwrap_or_else(|p| p.into_inner()),
            None => Utc::now(),
        }
    }

    /// Today's business date in China.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&shanghai()).date_naive()
    }

    /// Moves a simulated clock to `now`; the real clock cannot be set and a
    /// simulated one never moves backwards (times already recorded would lie).
    pub fn set(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
        let Some(at) = &self.simulated else {
            return Err(AppError::new(
                ErrorCode::ClockNotSimulated,
                "业务时钟为真实时钟，不能设置；以 --simulated-clock 启动服务后可设置",
            ));
        };
        let mut current = at.write().unwrap_or_else(|p| p.into_inner());
        if now < *current {
            return Err(AppError::field(
                "now",
                ErrorCode::ClockBackwards,
                format!(
                    "业务时钟不能倒退：当前为 {}",
                    current.with_timezone(&shanghai()).to_rfc3339()
                ),
            ));
        }
        *current = now;
        Ok(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn today_is_the_date_in_shanghai_not_in_utc() {
        // 20:30 UTC on 31 October is 04:30 on 1 November in China.
        let clock = Clock::simulated(at("2026-10-31T20:30:00Z"));
        assert_eq!(
            clock.today(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default()
        );
        assert_eq!(clock.now(), at("2026-10-31T20:30:00Z"));
    }

    #[test]
    fn a_simulated_clock_moves_forward_and_never_back() {
        let clock = Clock::simulated(at("2026-11-20T10:00:00+08:00"));
        let shared = clock.clone();
        assert!(shared.set(at("2026-11-21T09:00:00+08:00")).is_ok());
        assert_eq!(clock.now(), at("2026-11-21T09:00:00+08:00"));
        let refused = clock.set(at("2026-11-20T09:00:00+08:00"));
        let code = refused.err().and_then(|e| e.problem().map(|p| p.code));
        assert_eq!(code, Some(ErrorCode::ClockBackwards));
        assert_eq!(clock.now(), at("2026-11-21T09:00:00+08:00"));
    }

    #[test]
    fn the_real_clock_cannot_be_set() {
        let clock = Clock::real();
        let code = clock
            .set(Utc::now())
            .err()
            .and_then(|e| e.problem().map(|p| p.code));
        assert_eq!(code, Some(ErrorCode::ClockNotSimulated));
        assert!((Utc::now() - clock.now()).num_seconds().abs() < 5);
    }
}
