//! The byte level of FTP: a TCP or TLS stream ([`Conn`]), the TLS client setup shared by
//! the control and data connections ([`TlsSetup`]), the control connection that sends
//! commands and reads numbered replies ([`Control`]), and what can go wrong ([`Fail`]).
//!
//! Everything that waits has a deadline (the `timeout` keyword): a server that stops
//! answering fails the operation instead of hanging the run.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use crate::ErrorKind;

/// Longest reply or listing line accepted (a hostile server could otherwise send one
/// endless line and fill memory).
pub(crate) const MAX_LINE: u64 = 64 * 1024;

/// Most lines one reply may have (FEAT and HELP replies are a few dozen).
const MAX_REPLY_LINES: usize = 10_000;

/// A TCP connection, plain or wrapped in TLS.
pub(crate) enum Conn {
    /// Cleartext.
    Plain(TcpStream),
    /// TLS (FTPS); boxed because the TLS state is large.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Conn {
    /// Acknowledges what was received at once instead of after the delayed-ACK timer
    /// (`TCP_QUICKACK`, Linux). After a preliminary reply (`150 Opening data connection`)
    /// we send nothing on the control connection until the final one; a server that leaves
    /// Nagle's algorithm on (vsftpd) then holds its `226` until our ACK of the `150`
    /// arrives, which the kernel delays by up to 40 ms: per file, that was 90% of a small
    /// file's transfer time.
    pub(crate) fn ack_now(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let tcp = match self {
                Conn::Plain(s) => s,
                Conn::Tls(s) => s.get_ref().0,
            };
            let _ = tcp.set_quickack(true);
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The TLS client side of one site: one rustls configuration for the control connection
/// and every data connection, so data connections resume the control connection's TLS
/// session (vsftpd's `require_ssl_reuse` insists on that).
pub(crate) struct TlsSetup {
    connector: TlsConnector,
    name: ServerName<'static>,
}

impl TlsSetup {
    /// A client that trusts the system's roots plus `extra_roots` (DER certificates, for
    /// private CAs and tests), checking the certificate against `host`.
    pub(crate) fn new(host: &str, extra_roots: &[Vec<u8>]) -> Result<TlsSetup, String> {
        let mut roots = rustls::RootCertStore::empty();
        // Unreadable system certificates are skipped: the extra roots may be all we need.
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        for der in extra_roots {
            roots
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| format!("bad extra TLS root certificate: {e}"))?;
        }
        // An explicit provider: the process may link more than one.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| format!("`{host}` is not a valid TLS server name: {e}"))?;
        Ok(TlsSetup {
            connector: TlsConnector::from(Arc::new(config)),
            name,
        })
    }

    /// Runs the TLS handshake over `tcp`.
    pub(crate) async fn wrap(&self, tcp: TcpStream, limit: Duration) -> Result<Conn, Fail> {
        let tls = deadline(limit, "TLS handshake", async {
            self.connector
                .connect(self.name.clone(), tcp)
                .await
                .map_err(Fail::Io)
        })
        .await?;
        Ok(Conn::Tls(Box::new(tls)))
    }
}

/// One server reply: the three-digit code and the text of all its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    /// The reply code (`226`).
    pub(crate) code: u16,
    /// The text after the code; the lines of a multi-line reply joined with `\n`.
    pub(crate) text: String,
}

impl Reply {
    /// `1xx`: a preliminary reply, another follows.
    pub(crate) fn is_preliminary(&self) -> bool {
        (100..200).contains(&self.code)
    }

    /// `2xx`.
    pub(crate) fn is_ok(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The reply as the server wrote it (first line), for messages.
    pub(crate) fn show(&self) -> String {
        let first = self.text.lines().next().unwrap_or("");
        format!("{} {}", self.code, first.trim())
    }

    /// True if this refusal says the server has too many sessions (RFC 959 has no code
    /// for it: servers send 421 at the greeting, or 530 at login with these words).
    pub(crate) fn too_many(&self) -> bool {
        let t = self.text.to_ascii_lowercase();
        (self.code == 421 || self.code == 530 || self.code == 550)
            && (t.contains("too many")
                || t.contains("maximum")
                || t.contains("max ")
                || t.contains("limit")
                || t.contains("connections"))
    }

    /// The class of this reply as an error.
    pub(crate) fn kind(&self) -> ErrorKind {
        let lower = self.text.to_ascii_lowercase();
        match self.code {
            _ if self.too_many() => ErrorKind::Transient,
            421 | 425 | 426 | 450 | 451 => ErrorKind::Transient,
            452 | 552 => ErrorKind::NoSpace,
            400..=499 => ErrorKind::Transient,
            500 | 502 | 504 => ErrorKind::Unsupported,
            530 | 332 | 532 => ErrorKind::Fatal,
            550 if lower.contains("permission") || lower.contains("denied") => {
                ErrorKind::PermissionDenied
            }
            550 => ErrorKind::NotFound,
            553 => ErrorKind::PermissionDenied,
            _ => ErrorKind::Other,
        }
    }
}

/// What went wrong talking to a server.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The connection failed (reset, refused, closed): the session is unusable.
    Io(io::Error),
    /// Nothing came within the timeout: the session is unusable.
    Timeout(&'static str),
    /// The server refused (the session may still be fine, unless the code is 421).
    Reply(Reply),
    /// The server sent something that is not FTP: the session is unusable.
    Protocol(String),
    /// We refuse to send this (a name with CR or LF would inject a command).
    Refused(String),
}

impl Fail {
    /// The error class.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            Fail::Io(e) => crate::RemoteError::io("", e).kind,
            Fail::Timeout(_) => ErrorKind::Transient,
            Fail::Reply(r) => r.kind(),
            Fail::Protocol(_) => ErrorKind::Transient,
            Fail::Refused(_) => ErrorKind::UnsafeName,
        }
    }

    /// True if the control connection cannot be used after this.
    pub(crate) fn breaks_session(&self) -> bool {
        match self {
            Fail::Io(_) | Fail::Timeout(_) | Fail::Protocol(_) => true,
            Fail::Reply(r) => r.code == 421,
            Fail::Refused(_) => false,
        }
    }

    /// True if trying again (on a fresh session if this one broke) may succeed.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Fail::Io(e) => !matches!(
                e.kind(),
                io::ErrorKind::ConnectionRefused | io::ErrorKind::InvalidData
            ),
            Fail::Timeout(_) | Fail::Protocol(_) => true,
            Fail::Reply(r) => r.kind() == ErrorKind::Transient,
            Fail::Refused(_) => false,
        }
    }

    /// True for "the server has too many sessions".
    pub(crate) fn too_many(&self) -> bool {
        matches!(self, Fail::Reply(r) if r.too_many())
    }

    /// The cause as text for an error message.
    pub(crate) fn cause(&self) -> String {
        match self {
            Fail::Io(e) => e.to_string(),
            Fail::Timeout(what) => format!("timed out waiting for {what}"),
            Fail::Reply(r) => r.show(),
            Fail::Protocol(m) | Fail::Refused(m) => m.clone(),
        }
    }

    /// Into a [`crate::RemoteError`] with `context` ("cannot list `ftp://u@h:21/pub`").
    pub(crate) fn into_remote(self, context: impl Into<String>) -> crate::RemoteError {
        crate::RemoteError::new(self.kind(), context, self.cause())
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Self {
        Fail::Io(e)
    }
}

/// Runs `fut` with a deadline; `what` names the wait in the timeout message.
pub(crate) async fn deadline<T>(
    limit: Duration,
    what: &'static str,
    fut: impl Future<Output = Result<T, Fail>>,
) -> Result<T, Fail> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(Fail::Timeout(what)),
    }
}

/// Reads one line (up to and without its `\n`, CR kept) of at most [`MAX_LINE`] bytes into
/// `buf`. `Ok(false)` at the end of the stream with nothing read.
pub(crate) async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    buf: &mut Vec<u8>,
) -> Result<bool, Fail> {
    buf.clear();
    let n = r.take(MAX_LINE).read_until(b'\n', buf).await?;
    if n == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if n as u64 >= MAX_LINE {
        return Err(Fail::Protocol(format!(
            "a line longer than {MAX_LINE} bytes"
        )));
    }
    Ok(true)
}

/// The control connection: commands out, replies in.
pub(crate) struct Control {
    io: BufReader<Conn>,
    /// How long to wait for a reply.
    pub(crate) timeout: Duration,
}

impl Control {
    /// Wraps a connected stream.
    pub(crate) fn new(conn: Conn, timeout: Duration) -> Control {
        Control {
            io: BufReader::new(conn),
            timeout,
        }
    }

    /// The stream, for TLS upgrades. Fails if the server sent more than asked for (a
    /// reply after `234` would be read as cleartext: RFC 4217 forbids it).
    pub(crate) fn into_conn(self) -> Result<Conn, Fail> {
        if !self.io.buffer().is_empty() {
            return Err(Fail::Protocol(
                "the server sent data after accepting AUTH TLS".into(),
            ));
        }
        Ok(self.io.into_inner())
    }

    /// Sends one command line. `line` must not contain CR or LF: a name holding them
    /// would smuggle a second command to the server.
    pub(crate) async fn send(&mut self, line: &str) -> Result<(), Fail> {
        if line.contains(['\r', '\n']) {
            return Err(Fail::Refused(format!(
                "refusing to send a command containing a line break: {:?}",
                redact(line)
            )));
        }
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        let limit = self.timeout;
        let w = self.io.get_mut();
        deadline(limit, "the server to accept a command", async {
            w.write_all(&bytes).await?;
            w.flush().await?;
            Ok(())
        })
        .await
    }

    /// Reads one complete reply (all lines of a multi-line one).
    pub(crate) async fn reply(&mut self) -> Result<Reply, Fail> {
        let limit = self.timeout;
        let r = deadline(limit, "a reply", self.read_reply()).await?;
        if r.is_preliminary() {
            // The server speaks next, not us: see `Conn::ack_now`.
            self.io.get_ref().ack_now();
        }
        Ok(r)
    }

    async fn read_reply(&mut self) -> Result<Reply, Fail> {
        let mut buf = Vec::new();
        if !read_line(&mut self.io, &mut buf).await? {
            return Err(Fail::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the control connection",
            )));
        }
        let first = String::from_utf8_lossy(&buf)
            .trim_end_matches('\r')
            .to_owned();
        let (code, sep, rest) = split_code(&first)
            .ok_or_else(|| Fail::Protocol(format!("not an FTP reply: {:?}", short(&first))))?;
        let mut text = rest.to_owned();
        if sep == '-' {
            // Multi-line: ends at a line starting with the same code and a space.
            let end = format!("{code:03} ");
            let mut lines = 0;
            loop {
                if !read_line(&mut self.io, &mut buf).await? {
                    return Err(Fail::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the control connection mid-reply",
                    )));
                }
                let line = String::from_utf8_lossy(&buf)
                    .trim_end_matches('\r')
                    .to_owned();
                text.push('\n');
                if let Some(last) = line.strip_prefix(&end) {
                    text.push_str(last);
                    break;
                }
                text.push_str(&line);
                lines += 1;
                if lines > MAX_REPLY_LINES {
                    return Err(Fail::Protocol("a reply of more than 10,000 lines".into()));
                }
            }
        }
        Ok(Reply { code, text })
    }

    /// Sends a command and reads its reply, whatever the code.
    pub(crate) async fn cmd(&mut self, line: &str) -> Result<Reply, Fail> {
        self.send(line).await?;
        self.reply().await
    }

    /// Sends a command and expects a 2xx reply (or one of `also`).
    pub(crate) async fn ok(&mut self, line: &str, also: &[u16]) -> Result<Reply, Fail> {
        let r = self.cmd(line).await?;
        if r.is_ok() || also.contains(&r.code) {
            Ok(r)
        } else {
            Err(Fail::Reply(r))
        }
    }

    /// Closes the connection politely (`QUIT`), not waiting long.
    pub(crate) async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = self.cmd("QUIT").await;
            let _ = self.io.get_mut().shutdown().await;
        })
        .await;
    }
}

/// `226 Transfer complete` → (226, ' ', "Transfer complete").
fn split_code(line: &str) -> Option<(u16, char, &str)> {
    let b = line.as_bytes();
    if b.len() < 3 || !b[..3].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code: u16 = line[..3].parse().ok()?;
    match b.get(3) {
        None => Some((code, ' ', "")),
        Some(b' ') => Some((code, ' ', &line[4..])),
        Some(b'-') => Some((code, '-', &line[4..])),
        _ => None,
    }
}

/// A command line fit for an error message: `PASS` and `ACCT` arguments are hidden.
pub(crate) fn redact(line: &str) -> String {
    let upper = line.to_ascii_uppercase();
    for secret in ["PASS ", "ACCT ", "SITE GPASS "] {
        if upper.starts_with(secret) {
            return format!("{secret}****");
        }
    }
    short(line)
}

fn short(s: &str) -> String {
    let mut out: String = s.chars().take(200).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code,
            text: text.into(),
        }
    }

    #[test]
    fn codes_split() {
        assert_eq!(split_code("226 Done"), Some((226, ' ', "Done")));
        assert_eq!(split_code("211-Features:"), Some((211, '-', "Features:")));
        assert_eq!(split_code("200"), Some((200, ' ', "")));
        assert_eq!(split_code("hello"), None);
        assert_eq!(split_code("22x ok"), None);
    }

    #[test]
    fn replies_are_classified() {
        assert_eq!(reply(421, "Timeout.").kind(), ErrorKind::Transient);
        assert_eq!(reply(426, "Broken").kind(), ErrorKind::Transient);
        assert_eq!(
            reply(550, "No such file or directory").kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            reply(550, "Permission denied").kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(reply(530, "Login incorrect.").kind(), ErrorKind::Fatal);
        assert_eq!(
            reply(530, "Sorry, too many users logged in").kind(),
            ErrorKind::Transient
        );
        assert!(
            reply(
                421,
                "There are too many connections from your internet address."
            )
            .too_many()
        );
        assert_eq!(reply(502, "Not implemented").kind(), ErrorKind::Unsupported);
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(redact("PASS hunter2"), "PASS ****");
        assert_eq!(redact("pass hunter2"), "PASS ****");
        assert_eq!(redact("RETR x"), "RETR x");
    }
}
