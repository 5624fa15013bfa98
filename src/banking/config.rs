//! What a bank connection is configured with, as stored in
//! `bank_connections.transport` and given to `PUT /v1/bank-connections/{uscc}`
//! and `wagebridge bank add`. Key files are referenced by path: the database
//! and the API never hold a private key.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How files travel to and from one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TransportConfig {
    /// A pair of directories: we write into `outbox`, the bank writes into `inbox`.
    FileExchange { outbox: PathBuf, inbox: PathBuf },
    /// HTTPS with mutual TLS: we present `client_certificate` (PEM, with its
    /// key in `client_key`) and accept only a server certificate issued by
    /// `ca_certificate`.
    Https {
        url: String,
        client_certificate: PathBuf,
        client_key: PathBuf,
        ca_certificate: PathBuf,
        /// Longest a request may take as a whole (connect, send, answer);
        /// a slower bank's answer counts as unavailable and is retried.
        #[serde(default = "default_timeout_ms")]
        timeout_ms: u64,
    },
}

/// 30 seconds: a bank's gateway answers within this or is treated as down.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;

fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_kinds_and_refuses_unknown_fields() {
        let fx: TransportConfig =
            serde_json::from_str(r#"{"kind":"file_exchange","outbox":"/x/out","inbox":"/x/in"}"#)
                .unwrap();
        assert!(matches!(fx, TransportConfig::FileExchange { .. }));
        let https: TransportConfig = serde_json::from_str(
            r#"{"kind":"https","url":"https://bank.example:8443","client_certificate":"c.pem","client_key":"k.pem","ca_certificate":"ca.pem"}"#,
        )
        .unwrap();
        assert!(matches!(https, TransportConfig::Https { .. }));
        assert!(serde_json::from_str::<TransportConfig>(
            r#"{"kind":"file_exchange","outbox":"a","inbox":"b","key":"secret"}"#
        )
        .is_err());
    }
}
