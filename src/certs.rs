//! Development certificates (`wagebridge certs dev`): a throw-away CA, a
//! server certificate for the local machine and client certificates for
//! bank connections, all X.509 v3 with the extensions TLS clients check.
//! Not for production: the CA key sits next to the certificates.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error(
        "{0:?} is not a usable name: use letters, digits, '.', '-' and '_' (for example bank-102)"
    )]
    BadName(String),
    #[error("{0} already exists; choose another --out directory or remove the old files")]
    Exists(PathBuf),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("making a certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// What `certs dev` makes.
#[derive(Debug, Clone)]
pub struct DevRequest {
    /// DNS names and IP addresses the server certificate is valid for.
    pub server_names: Vec<String>,
    /// One client certificate per name (its common name and file name).
    pub clients: Vec<String>,
    pub valid_days: u64,
}

/// Writes `ca.pem`/`ca.key`, `server.pem`/`server.key` and `<client>.pem`/`<client>.key`
/// into `out` (keys with mode 0600); refuses to overwrite any file. Returns the files written.
pub fn write_dev_set(out: &Path, request: &DevRequest) -> Result<Vec<PathBuf>, CertsError> {
    for name in &request.clients {
        let ok = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !ok || matches!(name.as_str(), "ca" | "server") {
            return Err(CertsError::BadName(name.clone()));
        }
    }
    let stems: Vec<&str> = ["ca", "server"]
        .into_iter()
        .chain(request.clients.iter().map(String::as_str))
        .collect();
    for stem in &stems {
        for ext in ["pem", "key"] {
            let path = out.join(format!("{stem}.{ext}"));
            if path.exists() {
                return Err(CertsError::Exists(path));
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|source| CertsError::Write {
        path: out.to_owned(),
        source,
    })?;

    let mut written = Vec::new();
    let ca = make_ca(request.valid_days)?;
    written.extend(write_pair(out, "ca", &ca.pem(), ca.key())?);

    let server_key = KeyPair::generate()?;
    let mut server = leaf_params(
        request.server_names.clone(),
        "localhost",
        request.valid_days,
    )?;
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let server = server.signed_by(&server_key, &ca)?;
    written.extend(write_pair(out, "server", &server.pem(), &server_key)?);

    for name in &request.clients {
        let key = KeyPair::generate()?;
        let mut params = leaf_params(Vec::new(), name, request.valid_days)?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = params.signed_by(&key, &ca)?;
        written.extend(write_pair(out, name, &cert.pem(), &key)?);
    }
    Ok(written)
}

fn make_ca(valid_days: u64) -> Result<CertifiedIssuer<'static, KeyPair>, CertsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "wagebridge development CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut params, valid_days);
    Ok(CertifiedIssuer::self_signed(params, KeyPair::generate()?)?)
}

fn leaf_params(
    names: Vec<String>,
    common_name: &str,
    valid_days: u64,
) -> Result<CertificateParams, CertsError> {
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, valid_days);
    Ok(params)
}

/// From yesterday (clock skew between machines) for `valid_days`; TLS peers
/// check the real time, so this uses the machine's clock, not the business clock.
fn set_validity(params: &mut CertificateParams, valid_days: u64) {
    let today = Utc::now().date_naive();
    let from = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let until = today
        .checked_add_days(Days::new(valid_days.max(1)))
        .unwrap_or(today);
    let ymd = |d: chrono::NaiveDate| rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    params.not_before = ymd(from);
    params.not_after = ymd(until);
}

fn write_pair(
    out: &Path,
    stem: &str,
    cert_pem: &str,
    key: &KeyPair,
) -> Result<[PathBuf; 2], CertsError> {
    let cert_path = out.join(format!("{stem}.pem"));
    let key_path = out.join(format!("{stem}.key"));
    write_new(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_new(&cert_path, cert_pem.as_bytes(), 0o644)?;
    Ok([cert_path, key_path])
}

/// Creates `path` with `mode` from the start (a key is never readable by others, not even briefly).
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CertsError> {
    let wrap = |source| CertsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(wrap)?;
    file.write_all(bytes).map_err(wrap)?;
    file.sync_all().map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(clients: &[&str]) -> DevRequest {
        DevRequest {
            server_names: vec!["localhost".into(), "127.0.0.1".into()],
            clients: clients.iter().map(|c| c.to_string()).collect(),
            valid_days: 30,
        }
    }

    #[test]
    fn keys_are_private_and_nothing_is_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let files = write_dev_set(dir.path(), &request(&["bank-102"])).expect("write");
        assert_eq!(files.len(), 6);
        for f in &files {
            let mode = std::fs::metadata(f).expect("stat").permissions().mode() & 0o777;
            let want = if f.extension().is_some_and(|e| e == "key") {
                0o600
            } else {
                0o644
            };
            assert_eq!(mode, want, "{}", f.display());
        }
        let before = std::fs::read(dir.path().join("ca.key")).expect("read");
        assert!(matches!(
            write_dev_set(dir.path(), &request(&[])),
            Err(CertsError::Exists(_))
        ));
        assert_eq!(
            std::fs::read(dir.path().join("ca.key")).expect("read"),
            before
        );
    }

    #[test]
    fn client_names_must_be_plain_file_names() {
        let dir = tempfile::tempdir().expect("temp dir");
        for bad in ["../x", "", ".hidden", "a b", "ca", "server", "银行"] {
            assert!(
                matches!(
                    write_dev_set(dir.path(), &request(&[bad])),
                    Err(CertsError::BadName(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    }
}
