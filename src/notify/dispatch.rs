//! The dispatcher: claims due outbox rows, issues each line's token, and hands
//! the message to the sink, one row per transaction.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use super::outbox::{self, Claimed, Finish};
use super::{Message, NotifySettings, SendError, Sink};
use crate::clock::Clock;
use crate::db::{self, audit, DbError, PgPool};
use crate::domain::mask;
use crate::payroll::tokens;

/// After this many failed attempts a row is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 5;
/// Rows one round handles at most, so a round stays short.
const ROUND_LIMIT: usize = 200;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub failed: usize,
    pub undeliverable: usize,
    pub superseded: usize,
}

impl Round {
    pub fn handled(&self) -> usize {
        self.sent + self.failed + self.undeliverable + self.superseded
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    pool: PgPool,
    clock: Clock,
    settings: Arc<NotifySettings>,
    sink: Arc<dyn Sink>,
}

/// A delivery step that did not go through: the transport refused, or the database failed.
enum Undelivered {
    Send(SendError),
    Db(DbError),
}

impl From<diesel::result::Error> for Undelivered {
    fn from(e: diesel::result::Error) -> Self {
        Undelivered::Db(DbError::Query(e))
    }
}

impl From<DbError> for Undelivered {
    fn from(e: DbError) -> Self {
        Undelivered::Db(e)
    }
}

impl Dispatcher {
    pub fn new(pool: PgPool, clock: Clock, settings: NotifySettings, sink: Arc<dyn Sink>) -> Self {
        Dispatcher {
            pool,
            clock,
            settings: Arc::new(settings),
            sink,
        }
    }

    /// One round on the blocking pool: every due row, up to a limit.
    pub async fn run_once(&self) -> Result<Round, DbError> {
        let this = self.clone();
        db::run(&self.pool, move |conn| this.round(conn)).await
    }

    /// Runs rounds every `every` until the process ends (started by `serve`).
    pub fn spawn(self, every: Duration) {
        // On the multi-threaded runtime `serve` runs in, not on an actix worker.
        tokio::spawn(async move {
            loop {
                match self.run_once().await {
                    Ok(r) if r.handled() > 0 => tracing::info!(
                        sent = r.sent,
                        failed = r.failed,
                        undeliverable = r.undeliverable,
                        superseded = r.superseded,
                        "notifications dispatched"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "notification round failed"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// One round on a connection the caller holds.
    pub fn round(&self, conn: &mut PgConnection) -> Result<Round, DbError> {
        let mut round = Round::default();
        for _ in 0..ROUND_LIMIT {
            let now = self.clock.now();
            let handled = conn.transaction(|conn| {
                let Some(claimed) = outbox::claim_next(conn, now)? else {
                    return Ok::<_, DbError>(None);
                };
                self.deliver(conn, &claimed, now).map(Some)
            })?;
            match handled {
                None => break,
                Some("sent") => round.sent += 1,
                Some("undeliverable") => round.undeliverable += 1,
                Some("superseded") => round.superseded += 1,
                Some(_) => round.failed += 1,
            }
        }
        Ok(round)
    }

    /// Delivers one claimed row; returns what it became (`pending` again after a failure).
    fn deliver(
        &self,
        conn: &mut PgConnection,
        claimed: &Claimed,
        now: DateTime<Utc>,
    ) -> Result<&'static str, DbError> {
        let finish = |conn: &mut PgConnection, status, phone: Option<&str>, error: Option<&str>| {
            let f = Finish {
                status,
                phone_masked: phone,
                error,
                attempts: claimed.attempts + 1,
                at: now,
                next_attempt_at: now,
            };
            outbox::finish(conn, claimed.id, f)
        };
        let target = outbox::target(conn, claimed.line_id)?;
        let Some(target) = target.filter(|t| t.revision == t.latest_revision) else {
            // A later revision replaced the line: its workers get links for that one.
            finish(conn, "superseded", None, None)?;
            return Ok("superseded");
        };
        let phone = match target.worker_id {
            Some(worker) => db::payrolls::worker_phone(conn, target.project_id, worker)?,
            None => None,
        };
        let Some(phone) = phone.filter(|p| !p.trim().is_empty()) else {
            finish(conn, "undeliverable", None, Some("no phone on the roster"))?;
            return Ok("undeliverable");
        };
        let phone = phone.trim().to_owned();
        let masked = mask::mask_phone(&phone);

        let expires_at = now + chrono::Duration::days(i64::from(self.settings.token_days));
        let (token, hash) = tokens::new_token(&mut rand::thread_rng());
        let message = Message {
            notification_id: claimed.id,
            line_id: claimed.line_id,
            channel: "sms",
            to: phone,
            link: format!("{}/w/{token}", self.settings.public_url),
            text: String::new(),
        };
        let message = Message {
            text: compose(&target, &message.link, self.settings.token_days),
            ..message
        };
        // The new hash replaces the old one only if the transport took the
        // message: a failed attempt leaves nothing behind but its record.
        let sent = conn.transaction(|conn| {
            tokens::install(conn, claimed.line_id, &hash, now, expires_at)?;
            audit::record(
                conn,
                now,
                None,
                "payroll_line",
                Some(claimed.line_id),
                "token_issued",
                serde_json::json!({
                    "notification_id": claimed.id,
                    "reason": claimed.reason,
                    "transport": self.sink.name(),
                    "to": masked,
                    "expires_at": expires_at,
                }),
            )?;
            self.sink.send(&message).map_err(Undelivered::Send)
        });
        drop(message);
        match sent {
            Ok(()) => {
                finish(conn, "sent", Some(&masked), None)?;
                Ok("sent")
            }
            Err(Undelivered::Db(e)) => Err(e),
            Err(Undelivered::Send(e)) => {
                let attempts = claimed.attempts + 1;
                let status = if attempts >= MAX_ATTEMPTS {
                    "failed"
                } else {
                    "pending"
                };
                let f = Finish {
                    status,
                    phone_masked: Some(&masked),
                    error: Some(&e.0),
                    attempts,
                    at: now,
                    next_attempt_at: now + backoff(attempts),
                };
                outbox::finish(conn, claimed.id, f)?;
                tracing::warn!(notification = claimed.id, attempts, error = %e.0, "a notification was not taken");
                Ok(if status == "failed" {
                    "failed"
                } else {
                    "pending"
                })
            }
        }
    }
}

/// 1, 2, 4, 8 … minutes, at most an hour.
fn backoff(attempts: i32) -> chrono::Duration {
    let minutes = 1i64 << attempts.clamp(0, 6);
    chrono::Duration::minutes(minutes.min(60))
}

/// The SMS text: who, which month, how much, the link, how long it works.
fn compose(t: &outbox::Target, link: &str, days: u32) -> String {
    let net = t
        .net
        .map(|n| format!("，实发{}元", n.round_dp(2)))
        .unwrap_or_default();
    format!(
        "【工资确认】{name}您好：{project}{period}的工资单已生成{net}。请打开链接核对并确认（本人签字确认）：{link} 链接{days}天内有效，仅限本人使用，请勿转发。",
        name = t.worker_name,
        project = t.project_name,
        period = t.period,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), chrono::Duration::minutes(2));
        assert_eq!(backoff(3), chrono::Duration::minutes(8));
        assert_eq!(backoff(9), chrono::Duration::minutes(60));
    }

    #[test]
    fn the_text_carries_the_link_and_the_amount() {
        let t = outbox::Target {
            worker_id: Some(1),
            worker_name: "张三".into(),
            net: Some(rust_decimal::Decimal::new(550000, 2)),
            project_name: "光谷项目".into(),
            period: "2026-10".into(),
            revision: 1,
            latest_revision: 1,
            project_id: 1,
        };
        let text = compose(&t, "http://127.0.0.1:8080/w/abc", 60);
        assert!(text.contains("张三"));
        assert!(text.contains("实发5500.00元"));
        assert!(text.contains("http://127.0.0.1:8080/w/abc"));
        assert!(text.contains("60天"));
    }
}
