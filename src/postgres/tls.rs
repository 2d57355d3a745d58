//! TLS for PostgreSQL with rustls: TLS 1.2 or 1.3, the server certificate always verified.
//!
//! Where the settings come from, in order:
//!
//! | URL `sslmode` | TLS | chain verified | host name checked |
//! |---|---|---|---|
//! | `disable` | no (an error if `tls.enabled` is set too) | – | – |
//! | `allow`, `prefer` | if the server offers it | yes | `tls.check_hostname` |
//! | `require`, `verify-ca` | yes | yes | no |
//! | `verify-full` | yes | yes | yes |
//! | none | when `tls.enabled` | yes | `tls.check_hostname` |
//!
//! Unlike libpq, `require` never skips verification: dbconfig has no mode that trusts any
//! certificate. The CA comes from `sslrootcert` (`system` = the system store), else
//! `tls.ca_file`, else the system store. A client certificate comes from `sslcert` + `sslkey`,
//! else `tls.cert_file` + `tls.key_file`; one without the other is an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};
use crate::settings::TlsSettings;
use crate::url::{PgTlsParams, SslMode};

/// Where trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Roots {
    System,
    File { key: &'static str, path: PathBuf },
}

/// What the URL and the settings ask for, resolved; no file has been read yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsPlan {
    mode: PgSslMode,
    roots: Roots,
    client_cert: Option<ClientCert>,
    check_hostname: bool,
}

/// A client certificate and its key, with the names of the keys that gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientCert {
    cert_key: &'static str,
    cert: PathBuf,
    key_key: &'static str,
    key: PathBuf,
}

impl ClientCert {
    fn new(keys: (&'static str, &'static str), cert: &Path, key: &Path) -> Self {
        ClientCert {
            cert_key: keys.0,
            cert: cert.to_owned(),
            key_key: keys.1,
            key: key.to_owned(),
        }
    }
}

impl TlsPlan {
    /// Resolves the URL's libpq TLS keys and the settings; `None` = no TLS.
    pub(crate) fn resolve(url: &PgTlsParams, settings: &TlsSettings) -> Result<Option<Self>> {
        let TlsSettings {
            enabled,
            ca_file,
            cert_file,
            key_file,
            check_hostname,
        } = settings;
        let PgTlsParams {
            sslmode,
            sslrootcert,
            sslcert,
            sslkey,
        } = url;
        let (mode, check_hostname) = match sslmode {
            Some(SslMode::Disable) if *enabled => {
                return Err(Error::Unsupported {
                    key: "sslmode".into(),
                    reason: "sslmode=disable in the url contradicts tls.enabled = true".into(),
                });
            }
            Some(SslMode::Disable) => return Ok(None),
            None if !*enabled => return Ok(None),
            Some(SslMode::Allow | SslMode::Prefer) if !*enabled => {
                (PgSslMode::Prefer, *check_hostname)
            }
            Some(SslMode::Require | SslMode::VerifyCa) => (PgSslMode::Require, false),
            Some(SslMode::VerifyFull) => (PgSslMode::Require, true),
            _ => (PgSslMode::Require, *check_hostname),
        };
        let roots = match (sslrootcert, ca_file) {
            (Some(path), _) if path == Path::new("system") => Roots::System,
            (Some(path), _) => Roots::File {
                key: "sslrootcert",
                path: path.clone(),
            },
            (None, Some(path)) => Roots::File {
                key: "tls.ca_file",
                path: path.clone(),
            },
            (None, None) => Roots::System,
        };
        let client_cert = match (sslcert, sslkey) {
            (Some(cert), Some(key)) => Some(ClientCert::new(("sslcert", "sslkey"), cert, key)),
            (Some(_), None) => return Err(lone("sslcert", "sslkey")),
            (None, Some(_)) => return Err(lone("sslkey", "sslcert")),
            (None, None) => match (cert_file, key_file) {
                (Some(cert), Some(key)) => Some(ClientCert::new(
                    ("tls.cert_file", "tls.key_file"),
                    cert,
                    key,
                )),
                (Some(_), None) => return Err(lone("tls.cert_file", "tls.key_file")),
                (None, Some(_)) => return Err(lone("tls.key_file", "tls.cert_file")),
                (None, None) => None,
            },
        };
        Ok(Some(TlsPlan {
            mode,
            roots,
            client_cert,
            check_hostname,
        }))
    }

    /// The `sslmode` to give tokio-postgres.
    pub(crate) fn ssl_mode(&self) -> PgSslMode {
        self.mode
    }

    /// Reads the files and builds the connector.
    pub(crate) fn connector(&self) -> Result<PgTls> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = Arc::new(self.root_store()?);
        let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
            .build()
            .map_err(|e| Error::Unsupported {
                key: "tls".into(),
                reason: format!("no usable CA certificate: {e}"),
            })?;
        let verifier: Arc<dyn ServerCertVerifier> = if self.check_hostname {
            webpki
        } else {
            Arc::new(ChainOnly(webpki))
        };
        let builder = builder(&provider, &verifier)?;
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some(client) => {
                let chain = read_certs(client.cert_key, &client.cert)?;
                let key_error = |reason: String| Error::TlsFile {
                    key: client.key_key,
                    path: client.key.clone(),
                    reason,
                };
                let private = PrivateKeyDer::from_pem_file(&client.key)
                    .map_err(|e| key_error(e.to_string()))?;
                builder
                    .with_client_auth_cert(chain, private)
                    .map_err(|e| key_error(e.to_string()))?
            }
        };
        Ok(PgTls {
            connect: MakeRustlsConnect::new(config),
            provider,
            verifier,
        })
    }

    fn root_store(&self) -> Result<RootCertStore> {
        let mut store = RootCertStore::empty();
        match &self.roots {
            Roots::System => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = store.add_parsable_certificates(found.certs);
                if added == 0 {
                    return Err(Error::Unsupported {
                        key: "tls.ca_file".into(),
                        reason: "the system certificate store is empty; name a CA file with \
                                 tls.ca_file or sslrootcert"
                            .into(),
                    });
                }
            }
            Roots::File { key, path } => {
                for cert in read_certs(key, path)? {
                    store.add(cert).map_err(|e| Error::TlsFile {
                        key,
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                }
            }
        }
        Ok(store)
    }
}

/// An engine's TLS connector, and what it takes to build one with another client certificate
/// (from the `before_connect` hook) but the same server verification.
#[derive(Clone)]
pub(crate) struct PgTls {
    pub(crate) connect: MakeRustlsConnect,
    provider: Arc<rustls::crypto::CryptoProvider>,
    verifier: Arc<dyn ServerCertVerifier>,
}

impl PgTls {
    /// A connector that presents `chain_pem` / `key_pem` (the hook's certificate).
    pub(crate) fn with_client_certificate(
        &self,
        chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<MakeRustlsConnect> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::Hook(format!("before_connect's client certificate: {what}: {e}").into())
        };
        let chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad("certificate PEM", &e))?;
        if chain.is_empty() {
            return Err(bad("certificate PEM", &"no certificate in it"));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| bad("key PEM", &e))?;
        let config = builder(&self.provider, &self.verifier)?
            .with_client_auth_cert(chain, key)
            .map_err(|e| bad("certificate and key", &e))?;
        Ok(MakeRustlsConnect::new(config))
    }
}

/// TLS 1.3 or 1.2 with `verifier` checking the server.
fn builder(
    provider: &Arc<rustls::crypto::CryptoProvider>,
    verifier: &Arc<dyn ServerCertVerifier>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>> {
    Ok(ClientConfig::builder_with_provider(Arc::clone(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Unsupported {
            key: "tls".into(),
            reason: e.to_string(),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::clone(verifier)))
}

fn lone(given: &'static str, missing: &'static str) -> Error {
    Error::Unsupported {
        key: given.into(),
        reason: format!("a client certificate needs both {given} and {missing}"),
    }
}

fn read_certs(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let file_error = |reason: String| Error::TlsFile {
        key,
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| file_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// Verifies the chain like webpki but accepts a certificate that does not name the host
/// (`tls.check_hostname = false`, `sslmode=verify-ca`). rustls checks the chain before the name,
/// so a name error means the chain was good.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The reason of a failed TLS handshake (tokio-postgres's `Kind::Tls`), from the innermost error.
pub(crate) fn handshake_failure(e: &tokio_postgres::Error) -> Option<String> {
    if e.to_string() != "error performing TLS handshake" {
        return None;
    }
    let mut reasons = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if reasons.last() != Some(&text) {
            reasons.push(text);
        }
        source = cause.source();
    }
    Some(if reasons.is_empty() {
        "unknown reason".into()
    } else {
        reasons.join(": ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(mode: Option<SslMode>) -> PgTlsParams {
        PgTlsParams {
            sslmode: mode,
            ..PgTlsParams::default()
        }
    }

    #[test]
    fn off_unless_asked() {
        let off = TlsSettings::default();
        assert_eq!(TlsPlan::resolve(&params(None), &off).unwrap(), None);
        assert_eq!(
            TlsPlan::resolve(&params(Some(SslMode::Disable)), &off).unwrap(),
            None
        );
        let on = TlsSettings {
            enabled: true,
            ..TlsSettings::default()
        };
        assert!(TlsPlan::resolve(&params(Some(SslMode::Disable)), &on).is_err());
    }

    #[test]
    fn sslmode_decides_the_hostname_check() {
        let off = TlsSettings::default();
        let plan = |m| TlsPlan::resolve(&params(Some(m)), &off).unwrap().unwrap();
        assert!(!plan(SslMode::Require).check_hostname);
        assert!(!plan(SslMode::VerifyCa).check_hostname);
        assert!(plan(SslMode::VerifyFull).check_hostname);
        assert_eq!(plan(SslMode::Prefer).mode, PgSslMode::Prefer);
        assert_eq!(plan(SslMode::VerifyFull).roots, Roots::System);
    }

    #[test]
    fn url_files_win_and_go_in_pairs() {
        let settings = TlsSettings {
            enabled: true,
            ca_file: Some("settings-ca.pem".into()),
            ..TlsSettings::default()
        };
        let mut url = params(None);
        url.sslrootcert = Some("url-ca.pem".into());
        let plan = TlsPlan::resolve(&url, &settings).unwrap().unwrap();
        assert_eq!(
            plan.roots,
            Roots::File {
                key: "sslrootcert",
                path: "url-ca.pem".into()
            }
        );
        url.sslcert = Some("c.pem".into());
        let err = TlsPlan::resolve(&url, &settings).unwrap_err();
        assert!(err.to_string().contains("sslkey"), "{err}");
    }

    #[test]
    fn missing_ca_file_is_named() {
        let settings = TlsSettings {
            enabled: true,
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        let plan = TlsPlan::resolve(&params(None), &settings).unwrap().unwrap();
        let Err(err) = plan.connector() else {
            panic!("a missing CA file must fail")
        };
        assert!(
            matches!(
                &err,
                Error::TlsFile {
                    key: "tls.ca_file",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
