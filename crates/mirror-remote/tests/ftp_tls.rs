//! FTPS (explicit, `AUTH TLS` + `PROT P`) against libunftp with a self-signed certificate
//! made for the test: the tree is listed and read through TLS, and a certificate nobody
//! vouches for is refused.

use std::time::Duration;

use mirror_remote::ftp::listing::ListTz;
use mirror_remote::ftp::{FtpConfig, FtpRemote, FtpTls};
use mirror_remote::{RelPath, Remote, WalkOptions};
use mirror_testkit::TreeBuilder;
use mirror_testkit::ftp_unftp::{TlsFiles, UnftpServer};
use tokio::io::AsyncReadExt;

#[tokio::test]
async fn explicit_ftps_lists_and_reads_and_checks_the_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("srv");
    TreeBuilder::new(&root)
        .file("secret plans.txt", b"over TLS\n", 1_300_000_007)
        .file("sub/x.bin", vec![9u8; 100_000], 1_300_000_008);
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = tmp.path().join("cert.pem");
    let key = tmp.path().join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let server = UnftpServer::start_with(&root, Some(TlsFiles { cert, key })).await;

    let mut cfg = FtpConfig::new("127.0.0.1");
    cfg.port = server.port;
    cfg.tls = FtpTls::Explicit;
    cfg.root = "/".into();
    cfg.timeout = Duration::from_secs(10);
    cfg.retries = 0;
    cfg.reuse = false;
    cfg.listing.tz = ListTz::Utc;

    // Without the test's certificate as a root, the server is not trusted.
    let untrusted = FtpRemote::new(cfg.clone()).unwrap();
    let e = untrusted.walk(&WalkOptions::default()).await.unwrap_err();
    assert!(e.to_string().contains("ftps://"), "{e}");

    cfg.tls_roots = vec![ck.cert.der().to_vec()];
    let r = FtpRemote::new(cfg).unwrap();
    assert!(r.describe().starts_with("ftps://"));
    let l = r
        .walk(&WalkOptions {
            recursive: true,
            ignore: None,
        })
        .await
        .unwrap();
    let paths: Vec<&str> = l.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["secret plans.txt", "sub", "sub/x.bin"]);
    let mut got = Vec::new();
    r.open(&RelPath::new("sub/x.bin").unwrap(), 1_000)
        .await
        .unwrap()
        .read_to_end(&mut got)
        .await
        .unwrap();
    assert_eq!(got, vec![9u8; 99_000]);
}
