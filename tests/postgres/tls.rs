//! PostgreSQL over TLS against a real server with a CA generated here: verification with the
//! right CA, rejection of a wrong CA and of a wrong host name, client-certificate login (from
//! files, and rotated through the `before_connect` hook).

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::pg::{ClusterOptions, PgCluster, own_cluster};
use dbconfig::postgres::Credentials;
use dbconfig::{Error, PostgresConfig, PostgresEngine, Settings};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_pem: String,
    server_pem: String,
    server_key: String,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn new_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A leaf certificate signed by `ca`: for the server (names `localhost` only), or a client
/// certificate whose common name is the database user.
fn leaf(ca: &CertifiedIssuer<'static, KeyPair>, sans: &[&str], cn: &str) -> (String, String) {
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// A client certificate for `certuser` with serial number `serial`: (certificate, key) PEM.
fn client_cert(ca: &CertifiedIssuer<'static, KeyPair>, serial: u64) -> (String, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "certuser");
    params.serial_number = Some(serial.into());
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca("dbconfig test ca");
    let (server_pem, server_key) = leaf(&ca, &["localhost"], "localhost");
    let (client_pem, client_key) = leaf(&ca, &[], "certuser");
    let wrong_ca = new_ca("some other ca");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("ca.pem", &ca.pem());
    write("wrong-ca.pem", &wrong_ca.pem());
    write("client.pem", &client_pem);
    write("client.key", &client_key);
    Pki {
        ca_pem: ca.pem(),
        ca,
        dir,
        server_pem,
        server_key,
    }
}

fn tls_cluster(pki: &Pki) -> Option<PgCluster> {
    let cluster = own_cluster(ClusterOptions {
        conf: vec![
            "ssl = on".into(),
            "ssl_cert_file = 'server.crt'".into(),
            "ssl_key_file = 'server.key'".into(),
            "ssl_ca_file = 'root.crt'".into(),
        ],
        hba: vec![
            "hostssl all certuser 127.0.0.1/32 cert".into(),
            "host all certuser 127.0.0.1/32 reject".into(),
            "hostnossl all all 127.0.0.1/32 reject".into(),
        ],
        files: vec![
            ("server.crt".into(), pki.server_pem.clone().into_bytes()),
            ("server.key".into(), pki.server_key.clone().into_bytes()),
            ("root.crt".into(), pki.ca_pem.clone().into_bytes()),
        ],
    })?;
    cluster
        .psql("postgres", "CREATE ROLE certuser LOGIN")
        .unwrap();
    Some(cluster)
}

fn url(cluster: &PgCluster, host: &str, user: &str, query: &str) -> String {
    format!(
        "postgresql://{user}@{host}:{}/postgres?{query}",
        cluster.port()
    )
}

async fn ssl_in_use(engine: &PostgresEngine) -> dbconfig::Result<bool> {
    let mut session = engine.session();
    let client = session.client().await?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

async fn connect(url: &str, tune: impl FnOnce(&mut Settings)) -> dbconfig::Result<bool> {
    let mut settings = Settings::default().with_url(url.parse()?);
    tune(&mut settings);
    let engine = PostgresConfig::from_settings(settings)?.build_engine()?;
    ssl_in_use(&engine).await
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test]
async fn tls_verification_against_a_real_server() {
    let pki = pki();
    let Some(cluster) = tls_cluster(&pki) else {
        return;
    };
    let ca = path(&pki.path("ca.pem"));
    let wrong_ca = path(&pki.path("wrong-ca.pem"));

    // verify-full with the right CA and the name in the certificate.
    let ok = url(
        &cluster,
        "localhost",
        "postgres",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    assert!(connect(&ok, |_| {}).await.unwrap());

    // Plain connections are refused by pg_hba: TLS is really in use above.
    let plain = url(&cluster, "127.0.0.1", "postgres", "sslmode=disable");
    assert!(connect(&plain, |_| {}).await.is_err());

    // A CA that did not sign the server certificate.
    let wrong = url(
        &cluster,
        "localhost",
        "postgres",
        &format!("sslmode=verify-full&sslrootcert={wrong_ca}"),
    );
    let err = connect(&wrong, |_| {}).await.unwrap_err();
    match &err {
        Error::Tls { reason, .. } => assert!(reason.contains("UnknownIssuer"), "{reason}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
    assert!(err.to_string().starts_with("tls handshake failed"), "{err}");

    // The certificate names `localhost`, not 127.0.0.1.
    let by_ip = url(
        &cluster,
        "127.0.0.1",
        "postgres",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let err = connect(&by_ip, |_| {}).await.unwrap_err();
    match &err {
        Error::Tls { reason, .. } => assert!(reason.contains("not valid for name"), "{reason}"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
    // verify-ca checks the chain only, and so does check_hostname = false.
    let verify_ca = url(
        &cluster,
        "127.0.0.1",
        "postgres",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    assert!(connect(&verify_ca, |_| {}).await.unwrap());
    let from_settings = url(&cluster, "127.0.0.1", "postgres", "");
    assert!(
        connect(&from_settings, |s| {
            s.postgres.tls.enabled = true;
            s.postgres.tls.ca_file = Some(pki.path("ca.pem"));
            s.postgres.tls.check_hostname = false;
        })
        .await
        .unwrap()
    );
    // …but the chain is still checked with check_hostname = false.
    let err = connect(&from_settings, |s| {
        s.postgres.tls.enabled = true;
        s.postgres.tls.ca_file = Some(pki.path("wrong-ca.pem"));
        s.postgres.tls.check_hostname = false;
    })
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    // Settings with the host-name check on (the default) reject the IP too.
    let err = connect(&from_settings, |s| {
        s.postgres.tls.enabled = true;
        s.postgres.tls.ca_file = Some(pki.path("ca.pem"));
    })
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
}

#[tokio::test]
async fn client_certificate_authenticates() {
    let pki = pki();
    let Some(cluster) = tls_cluster(&pki) else {
        return;
    };
    let ca = path(&pki.path("ca.pem"));
    let cert = path(&pki.path("client.pem"));
    let key = path(&pki.path("client.key"));

    let with_cert = url(
        &cluster,
        "localhost",
        "certuser",
        &format!("sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey={key}"),
    );
    assert!(connect(&with_cert, |_| {}).await.unwrap());

    // The same through settings.
    let bare = url(&cluster, "localhost", "certuser", "");
    assert!(
        connect(&bare, |s| {
            s.postgres.tls.enabled = true;
            s.postgres.tls.ca_file = Some(pki.path("ca.pem"));
            s.postgres.tls.cert_file = Some(pki.path("client.pem"));
            s.postgres.tls.key_file = Some(pki.path("client.key"));
        })
        .await
        .unwrap()
    );

    // Without a certificate, pg_hba's `cert` rule refuses the login.
    let without = url(
        &cluster,
        "localhost",
        "certuser",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let err = connect(&without, |_| {}).await.unwrap_err();
    assert!(matches!(err, Error::Postgres(_)), "{err:?}");

    // A certificate without its key is a configuration error, found before connecting.
    let half = url(
        &cluster,
        "localhost",
        "certuser",
        &format!("sslmode=verify-full&sslrootcert={ca}&sslcert={cert}"),
    );
    let err = PostgresConfig::new(&half).unwrap_err();
    assert!(err.to_string().contains("sslkey"), "{err}");
}

/// The serial number of the client certificate a connection of `session` logged in with.
async fn client_serial(session: &mut dbconfig::PostgresSession) -> dbconfig::Result<String> {
    let client = session.client().await?;
    let row = client
        .query_one(
            "SELECT client_serial::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// `before_connect` hands each new connection a client certificate (a short-lived one from a
/// certificate service, say): after a rotation, new connections present the new certificate,
/// open ones keep working; a bad PEM, or a certificate without TLS, is `Error::Hook`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_client_certificates_rotate() {
    let pki = pki();
    let Some(cluster) = tls_cluster(&pki) else {
        return;
    };
    let ca = path(&pki.path("ca.pem"));
    let current = Arc::new(Mutex::new(client_cert(&pki.ca, 101)));
    let hook_current = Arc::clone(&current);
    let hook = move || {
        let (cert, key) = hook_current.lock().unwrap().clone();
        async move { Ok(Credentials::default().with_client_certificate(cert, key)) }
    };
    let engine = PostgresConfig::new(&url(
        &cluster,
        "localhost",
        "certuser",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .unwrap()
    .before_connect(hook.clone())
    .build_engine()
    .unwrap();

    let mut first = engine.session();
    assert_eq!(client_serial(&mut first).await.unwrap(), "101");
    *current.lock().unwrap() = client_cert(&pki.ca, 202);
    let mut second = engine.session();
    assert_eq!(client_serial(&mut second).await.unwrap(), "202");
    // The connection opened with the old certificate still works.
    assert_eq!(client_serial(&mut first).await.unwrap(), "101");

    // A certificate that is not PEM: that connection fails, naming the hook's certificate.
    *current.lock().unwrap() = ("not a pem".into(), "nor this".into());
    let mut third = engine.session();
    match client_serial(&mut third).await {
        Err(Error::Hook(e)) => assert!(e.to_string().contains("client certificate"), "{e}"),
        other => panic!("expected Error::Hook, got {other:?}"),
    }
    drop((first, second, third));
    engine.dispose();

    // A certificate with TLS off is refused before connecting.
    let plain = PostgresConfig::new(&url(&cluster, "localhost", "certuser", "sslmode=disable"))
        .unwrap()
        .before_connect(hook)
        .build_engine()
        .unwrap();
    match client_serial(&mut plain.session()).await {
        Err(Error::Hook(e)) => assert!(e.to_string().contains("TLS is off"), "{e}"),
        other => panic!("expected Error::Hook, got {other:?}"),
    }
    plain.dispose();
}
