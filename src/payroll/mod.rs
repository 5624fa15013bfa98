//! Monthly payrolls (工资支付表), as use cases with no HTTP in them: submit
//! (match every line against the roster and attendance, store a revision,
//! issue confirmation tokens), read a period, approve, settings and pay slips
//! (工资清单). Each use case owns its transaction; views are what it answers.

pub mod approve;
pub mod lines;
pub mod payslip;
pub mod read;
pub mod settings;
pub mod submit;
pub mod tokens;
pub mod views;

/// Confirmation channel check shared with the confirmations endpoint.
pub const CHANNELS: &[&str] = &["sms", "wechat", "app", "web", "kiosk", "paper"];
