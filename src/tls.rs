//! TLS for `serve`: reading PEM certificates and keys, refusing what the
//! handshake would reject later with a misleading error, and building the
//! rustls server configuration (client certificates verified when presented);
//! reading a bank's client certificate before it is registered, and taking the
//! verified one of a connection into its data ([`on_connect`]).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

/// rustls server config; with a client CA, client certificates are verified
/// when presented (banks' mutual TLS) but not required (API-key clients).
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> anyhow::Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = read_certs(cert)?;
    let key = read_key(key)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in read_certs(ca)? {
                roots
                    .add(c)
                    .with_context(|| format!("{} is not a usable CA certificate", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .allow_unauthenticated()
            .build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    builder.with_single_cert(certs, key).with_context(|| {
        format!(
            "the certificate {} and the key do not belong together",
            cert.display()
        )
    })
}

/// Every certificate in a PEM file; each must be X.509 v3.
pub fn read_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("opening {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a PEM certificate file", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", path.display());
    for (i, cert) in certs.iter().enumerate() {
        match x509_version(cert) {
            Some(3) => {}
            Some(v) => anyhow::bail!(
                "certificate {} in {} is X.509 v{v}; TLS needs X.509 v3 (with extensions: \
                 subjectAltName for a server, basicConstraints and keyUsage for a CA). \
                 Make it again as certs/README.md says, or with `wagebridge certs dev`",
                i + 1,
                path.display()
            ),
            None => anyhow::bail!(
                "certificate {} in {} is not a DER X.509 certificate",
                i + 1,
                path.display()
            ),
        }
    }
    Ok(certs)
}

/// The private key (PKCS#8, PKCS#1 or SEC1) in a PEM file.
pub fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path)
        .with_context(|| format!("no private key in {}", path.display()))
}

/// The verified client certificate of a TLS connection: [`on_connect`] puts it
/// into the connection's data, where `HttpRequest::conn_data` finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerCertificate {
    /// SHA-256 of the DER end-entity certificate.
    pub fingerprint: [u8; 32],
}

/// `HttpServer::on_connect` for `bind_rustls_0_23`: records the client's
/// certificate. rustls has verified it against the client CA in the handshake
/// (one that fails is refused there), so one that is present is trusted.
pub fn on_connect(connection: &dyn std::any::Any, data: &mut actix_web::dev::Extensions) {
    type Tls = actix_tls::accept::rustls_0_23::TlsStream<actix_web::rt::net::TcpStream>;
    let Some(tls) = connection.downcast_ref::<Tls>() else {
        return; // plain HTTP
    };
    let (_, session) = tls.get_ref();
    if let Some(cert) = session.peer_certificates().and_then(<[_]>::first) {
        data.insert(PeerCertificate {
            fingerprint: fingerprint(cert),
        });
    }
}

/// SHA-256 of a DER certificate.
pub fn fingerprint(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// A fingerprint as `openssl x509 -noout -fingerprint -sha256` prints it (`AB:CD:…`).
pub fn fingerprint_text(fingerprint: &[u8]) -> String {
    fingerprint
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What a client certificate says about itself, read before it is registered.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    pub fingerprint: [u8; 32],
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

/// The first certificate of a PEM file (the end entity; a chain may follow),
/// refused unless it is an X.509 v3 certificate a TLS client could present:
/// not a CA, allowed for client authentication, not expired at `now`.
pub fn read_client_certificate(
    path: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<ClientCertificate> {
    let certs = read_certs(path)?;
    let first = certs
        .first()
        .with_context(|| format!("no certificate in {}", path.display()))?;
    client_certificate(first, now)
        .with_context(|| format!("{} cannot be registered", path.display()))
}

/// See [`read_client_certificate`]; `der` is one certificate.
pub fn client_certificate(der: &[u8], now: DateTime<Utc>) -> anyhow::Result<ClientCertificate> {
    use x509_parser::prelude::{FromDer, X509Certificate, X509Version};
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| anyhow::anyhow!("it is not a DER X.509 certificate ({e})"))?;
    anyhow::ensure!(
        cert.version() == X509Version::V3,
        "it is X.509 v{}; TLS needs X.509 v3",
        cert.version().0 + 1
    );
    anyhow::ensure!(
        !cert.is_ca(),
        "it is a CA certificate; register the bank's own (end-entity) certificate"
    );
    let eku = cert
        .extended_key_usage()
        .map_err(|e| anyhow::anyhow!("its extended key usage cannot be read ({e})"))?;
    if let Some(eku) = eku {
        anyhow::ensure!(
            eku.value.client_auth || eku.value.any,
            "its extended key usage does not allow client authentication (clientAuth)"
        );
    }
    let not_after = DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .context("its expiry date is out of range")?;
    anyhow::ensure!(not_after > now, "it expired on {not_after}");
    Ok(ClientCertificate {
        fingerprint: fingerprint(der),
        subject: cert.subject().to_string(),
        not_after,
    })
}

/// The X.509 version (1, 2 or 3) of a DER certificate, or None when it is not one.
///
/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { version [0] EXPLICIT
/// INTEGER DEFAULT v1, serialNumber INTEGER, ... }, ... }: a missing `[0]`
/// means v1. Only the headers are read; rustls parses the rest.
pub fn x509_version(der: &[u8]) -> Option<u8> {
    let (tag, body, _) = der_element(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, tbs, _) = der_element(body)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, version, _) = der_element(tbs)?;
    match tag {
        0x02 => Some(1), // the serial number: no version field
        0xa0 => match der_element(version)? {
            (0x02, [v @ 0..=2], _) => Some(v + 1),
            _ => None,
        },
        _ => None,
    }
}

/// One DER element: (tag, content, rest).
fn der_element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::{client_certificate, fingerprint_text, x509_version};
    use chrono::{TimeZone, Utc};
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};

    fn certificate(edit: impl FnOnce(&mut CertificateParams)) -> Vec<u8> {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(vec!["bank-102".to_owned()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2026, 1, 1);
        params.not_after = rcgen::date_time_ymd(2027, 1, 1);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        edit(&mut params);
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    #[test]
    fn a_client_certificate_is_read_with_its_subject_expiry_and_fingerprint() {
        let der = certificate(|p| {
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "bank-102");
        });
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let cert = client_certificate(&der, now).expect("a client certificate");
        assert!(cert.subject.contains("CN=bank-102"), "{}", cert.subject);
        assert_eq!(
            cert.not_after,
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
        let text = fingerprint_text(&cert.fingerprint);
        assert_eq!(text.len(), 32 * 3 - 1);
        assert!(text.split(':').all(|b| b.len() == 2
            && b.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())));
    }

    #[test]
    fn what_cannot_authenticate_a_client_is_refused_with_the_reason() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        let cases: [(Vec<u8>, &str); 4] = [
            (
                certificate(|p| p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained)),
                "CA certificate",
            ),
            (
                certificate(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]),
                "clientAuth",
            ),
            (
                certificate(|p| p.not_after = rcgen::date_time_ymd(2026, 5, 31)),
                "expired",
            ),
            (b"not a certificate".to_vec(), "not a DER X.509"),
        ];
        for (der, reason) in cases {
            let err = client_certificate(&der, now).expect_err(reason).to_string();
            assert!(err.contains(reason), "{reason:?} not in {err:?}");
        }
        // No extended key usage at all allows every use, clients included.
        assert!(client_certificate(&certificate(|p| p.extended_key_usages.clear()), now).is_ok());
    }

    #[test]
    fn rcgen_certificates_are_v3() {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        assert_eq!(x509_version(cert.der()), Some(3));
    }

    #[test]
    fn a_certificate_without_a_version_field_is_v1() {
        // SEQUENCE { SEQUENCE { INTEGER 1, SEQUENCE {} } }
        let v1 = [0x30, 0x07, 0x30, 0x05, 0x02, 0x01, 0x01, 0x30, 0x00];
        assert_eq!(x509_version(&v1), Some(1));
        // SEQUENCE { SEQUENCE { [0] { INTEGER 2 }, INTEGER 1 } }
        let v3 = [
            0x30, 0x0a, 0x30, 0x08, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01,
        ];
        assert_eq!(x509_version(&v3), Some(3));
    }

    #[test]
    fn what_is_not_a_certificate_has_no_version() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x05, 0x30, 0x09, 0x02],
            b"-----BEGIN",
        ] {
            assert_eq!(x509_version(bad), None, "{bad:?}");
        }
    }
}
