//! A small per-address rate limit for the token endpoints (a token bucket per
//! client IP, in memory): a worker's link is a bearer credential, so guessing
//! is slowed to a trickle. Real time, not the business clock: it limits requests.
//!
//! The address is the TCP peer's; behind a reverse proxy every request shares
//! the proxy's address, so the proxy must limit instead (X-Forwarded-For is
//! not trusted: anyone can write it).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::error::ApiError;
use crate::error::ErrorCode;

/// Requests one address may make at once.
pub const DEFAULT_BURST: u32 = 20;
/// Requests an address earns back per minute after a burst.
pub const DEFAULT_PER_MINUTE: u32 = 30;
/// Addresses remembered before idle ones are forgotten.
const MAX_ADDRESSES: usize = 100_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(DEFAULT_BURST, DEFAULT_PER_MINUTE)
    }
}

impl RateLimiter {
    pub fn new(burst: u32, per_minute: u32) -> RateLimiter {
        RateLimiter {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `addr`'s bucket; `Err` says how long to wait.
    pub fn take(&self, addr: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_ADDRESSES {
            // Forget the addresses whose bucket has filled up again: they lose nothing.
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let earned = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + earned).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                ((1.0 - bucket.tokens) / self.per_second).ceil(),
            ))
        }
    }

    /// For a handler: `Some(429 answer)` when the caller's address is over its limit.
    pub fn check(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let addr = req.peer_addr().map(|a| a.ip());
        let wait = self.take(addr, Instant::now()).err()?;
        let secs = wait.as_secs().max(1);
        let problem = ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!("too many requests from this address; try again in {secs} s"),
        );
        Some(
            HttpResponse::TooManyRequests()
                .insert_header((header::CONTENT_TYPE, "application/problem+json"))
                .insert_header((header::RETRY_AFTER, secs.to_string()))
                .json(problem.problem()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_refill_and_addresses_apart() {
        let limiter = RateLimiter::new(3, 60);
        let t0 = Instant::now();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        for _ in 0..3 {
            assert!(limiter.take(a, t0).is_ok());
        }
        assert_eq!(limiter.take(a, t0), Err(Duration::from_secs(1)));
        assert!(
            limiter.take(b, t0).is_ok(),
            "another address has its own bucket"
        );
        assert!(limiter.take(a, t0 + Duration::from_secs(1)).is_ok());
        assert!(limiter.take(a, t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn over_the_limit_is_a_429_problem_with_retry_after() {
        let limiter = RateLimiter::new(1, 6);
        let req = actix_web::test::TestRequest::default()
            .peer_addr("192.0.2.1:1234".parse().unwrap())
            .to_http_request();
        assert!(limiter.check(&req).is_none());
        let answer = limiter.check(&req).expect("limited");
        assert_eq!(answer.status().as_u16(), 429);
        assert_eq!(answer.headers().get("retry-after").unwrap(), "10");
        assert_eq!(
            answer.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
    }
}
