//! One logged-in FTP session: connect (from `bind_addr`, within `timeout`), TLS (explicit
//! `AUTH TLS` or implicit), login (`USER`/`PASS`/`ACCT`, `SITE GROUP`/`GPASS`), `FEAT`, and
//! the commands the backend needs, including data connections (passive `EPSV` then
//! `PASV`, or active `EPRT`/`PORT`).
//!
//! Paths given to a session are absolute server paths; the backend builds them from the
//! tree root and a [`crate::RelPath`], so no name from a listing is ever sent unchecked.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::conn::{Conn, Control, Fail, Reply, TlsSetup, deadline, read_line};
use super::{FtpConfig, FtpTls};

/// What the server said it can do, from `FEAT` (RFC 2389) and a few probes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerFeat {
    /// `FEAT` was answered at all.
    pub(crate) feat: bool,
    /// `MLST` advertised, so `MLSD` works.
    pub(crate) mlsd: bool,
    /// `MDTM`.
    pub(crate) mdtm: bool,
    /// `SIZE`.
    pub(crate) size: bool,
    /// `REST STREAM` (or a `REST 0` probe answered 350).
    pub(crate) rest: bool,
    /// `EPSV` advertised (we try it anyway, RFC 2428 servers need not list it).
    pub(crate) epsv: bool,
    /// `UTF8`: names are UTF-8 (`OPTS UTF8 ON` is sent).
    pub(crate) utf8: bool,
    /// `MFMT`: the modification time can be set.
    pub(crate) mfmt: bool,
    /// `SITE CHMOD` is listed by `HELP SITE` (only probed for writable remotes).
    pub(crate) chmod: bool,
}

impl ServerFeat {
    fn parse(text: &str) -> ServerFeat {
        let mut f = ServerFeat {
            feat: true,
            ..Default::default()
        };
        for line in text.lines().skip(1) {
            let l = line.trim().to_ascii_uppercase();
            let word = l.split_whitespace().next().unwrap_or("");
            match word {
                "MLST" | "MLSD" => f.mlsd = true,
                "MDTM" => f.mdtm = true,
                "SIZE" => f.size = true,
                "REST" if l.contains("STREAM") => f.rest = true,
                "EPSV" => f.epsv = true,
                "UTF8" => f.utf8 = true,
                "MFMT" => f.mfmt = true,
                _ => {}
            }
        }
        f
    }
}

/// The transfer type last set (`TYPE I` or `TYPE A`), to skip redundant commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    /// Binary.
    Image,
    /// ASCII (`text_mode`, listings).
    Ascii,
}

/// A data connection that is open and whose command was accepted (1xx). Read or write it,
/// then call [`Session::finish`] for the final reply.
pub(crate) struct Data {
    /// The stream; `None` when the server answered 2xx at once (nothing to transfer).
    pub(crate) conn: Option<Conn>,
}

/// One logged-in control connection.
pub(crate) struct Session {
    ctl: Control,
    cfg: Arc<FtpConfig>,
    tls: Option<Arc<TlsSetup>>,
    /// TLS on data connections too (`PROT P` accepted).
    prot_p: bool,
    peer: SocketAddr,
    local: SocketAddr,
    /// What `FEAT` said.
    pub(crate) feat: ServerFeat,
    /// False once `EPSV` was refused: `PASV` from then on.
    epsv: bool,
    ty: Option<Type>,
    /// The directory of the last `CWD`, to skip redundant ones.
    cwd: Option<String>,
    /// Set while a command is under way: a session dropped in that state (its future was
    /// cancelled) has an unknown state and must not be reused.
    pub(crate) busy: bool,
    /// The session must not be reused (its connection failed, or it was left mid-command).
    pub(crate) broken: bool,
    /// When it was last used, to retire sessions the server has probably closed.
    pub(crate) last_used: Instant,
}

impl Session {
    /// Connects, secures and logs in. `tls` is the site's TLS client (for `ftps`).
    pub(crate) async fn open(
        cfg: Arc<FtpConfig>,
        tls: Option<Arc<TlsSetup>>,
    ) -> Result<Session, Fail> {
        let limit = cfg.timeout;
        let tcp = deadline(limit, "the connection", connect_tcp(&cfg)).await?;
        let peer = tcp.peer_addr()?;
        let local = tcp.local_addr()?;
        let _ = tcp.set_nodelay(true);
        let conn = match (&cfg.tls, &tls) {
            (FtpTls::Implicit, Some(t)) => t.wrap(tcp, limit).await?,
            _ => Conn::Plain(tcp),
        };
        let mut ctl = Control::new(conn, limit);
        // The greeting; `120` means "ready in a moment", and another reply follows.
        let mut hello = ctl.reply().await?;
        if hello.code == 120 {
            hello = ctl.reply().await?;
        }
        if hello.code != 220 {
            return Err(Fail::Reply(hello));
        }
        let mut prot_p = false;
        if let (FtpTls::Explicit, Some(t)) = (&cfg.tls, &tls) {
            let r = ctl.cmd("AUTH TLS").await?;
            if r.code != 234 {
                return Err(Fail::Reply(r));
            }
            let conn = ctl.into_conn()?;
            let Conn::Plain(tcp) = conn else {
                return Err(Fail::Protocol("TLS requested twice".into()));
            };
            ctl = Control::new(t.wrap(tcp, limit).await?, limit);
        }
        if tls.is_some() {
            // RFC 4217: PBSZ 0, then PROT P to protect the data connections as well.
            ctl.ok("PBSZ 0", &[]).await?;
            ctl.ok("PROT P", &[]).await?;
            prot_p = true;
        }
        let mut s = Session {
            ctl,
            cfg,
            tls,
            prot_p,
            peer,
            local,
            feat: ServerFeat::default(),
            epsv: true,
            ty: None,
            cwd: None,
            busy: false,
            broken: false,
            last_used: Instant::now(),
        };
        s.login().await?;
        s.setup().await?;
        Ok(s)
    }

    async fn login(&mut self) -> Result<(), Fail> {
        let cfg = self.cfg.clone();
        let r = self.ctl.cmd(&format!("USER {}", cfg.user)).await?;
        let r = match r.code {
            230 => return Ok(()),
            331 | 332 => self.ctl.cmd(&format!("PASS {}", cfg.password.0)).await?,
            _ => return Err(Fail::Reply(r)),
        };
        let r = match r.code {
            230 | 202 => return Ok(()),
            332 if !cfg.account.0.is_empty() => {
                self.ctl.cmd(&format!("ACCT {}", cfg.account.0)).await?
            }
            _ => return Err(Fail::Reply(r)),
        };
        if r.is_ok() {
            Ok(())
        } else {
            Err(Fail::Reply(r))
        }
    }

    /// After login: `FEAT`, UTF-8 names, `SITE GROUP`/`GPASS`, the transfer type.
    async fn setup(&mut self) -> Result<(), Fail> {
        let r = self.ctl.cmd("FEAT").await?;
        if r.code == 211 {
            self.feat = ServerFeat::parse(&r.text);
        }
        if self.feat.utf8 {
            // Some servers need this before they send UTF-8 names; a refusal is harmless.
            let _ = self.ctl.cmd("OPTS UTF8 ON").await?;
        }
        if !self.feat.rest {
            // mirror.pl's probe: a server that takes `REST 0` can resume. REST 0 is a
            // no-op for the next transfer.
            let r = self.ctl.cmd("REST 0").await?;
            self.feat.rest = r.code == 350;
        }
        let cfg = self.cfg.clone();
        if !cfg.group.is_empty() {
            self.ctl
                .ok(&format!("SITE GROUP {}", cfg.group), &[])
                .await?;
        }
        if !cfg.group_password.0.is_empty() {
            self.ctl
                .ok(&format!("SITE GPASS {}", cfg.group_password.0), &[])
                .await?;
        }
        if cfg.write {
            // mirror.pl learnt from HELP SITE whether SITE CHMOD exists.
            if let Ok(r) = self.ctl.cmd("HELP SITE").await {
                self.feat.chmod = (r.code == 214 || r.code == 211)
                    && r.text.to_ascii_uppercase().contains("CHMOD");
            }
        }
        Ok(())
    }

    /// Records the end of one command exchange: the session is idle again, and broken if
    /// the exchange failed in a way that leaves the connection unusable.
    fn done<T>(&mut self, r: &Result<T, Fail>) {
        self.busy = false;
        self.last_used = Instant::now();
        if let Err(e) = r
            && e.breaks_session()
        {
            self.broken = true;
        }
    }

    /// A command expecting 2xx (or one of `also`).
    pub(crate) async fn simple(&mut self, line: &str, also: &[u16]) -> Result<Reply, Fail> {
        self.busy = true;
        let r = self.ctl.ok(line, also).await;
        self.done(&r);
        r
    }

    /// A command whose reply is returned whatever its code.
    pub(crate) async fn raw(&mut self, line: &str) -> Result<Reply, Fail> {
        self.busy = true;
        let r = self.ctl.cmd(line).await;
        self.done(&r);
        r
    }

    /// `PWD`: the current directory.
    pub(crate) async fn pwd(&mut self) -> Result<String, Fail> {
        let r = self.simple("PWD", &[]).await?;
        // 257 "/the/dir" is current; quotes inside are doubled.
        let t = &r.text;
        let (Some(a), Some(b)) = (t.find('"'), t.rfind('"')) else {
            return Err(Fail::Protocol(format!(
                "cannot read PWD reply {}",
                r.show()
            )));
        };
        if b <= a {
            return Err(Fail::Protocol(format!(
                "cannot read PWD reply {}",
                r.show()
            )));
        }
        Ok(t[a + 1..b].replace("\"\"", "\""))
    }

    /// `CWD dir` (skipped when already there).
    pub(crate) async fn cwd(&mut self, dir: &str) -> Result<(), Fail> {
        if self.cwd.as_deref() == Some(dir) {
            return Ok(());
        }
        self.cwd = None;
        self.simple(&format!("CWD {dir}"), &[]).await?;
        self.cwd = Some(dir.to_owned());
        Ok(())
    }

    /// `TYPE I` or `TYPE A` (skipped when already set).
    pub(crate) async fn set_type(&mut self, ty: Type) -> Result<(), Fail> {
        if self.ty == Some(ty) {
            return Ok(());
        }
        let cmd = match ty {
            Type::Image => "TYPE I",
            Type::Ascii => "TYPE A",
        };
        self.simple(cmd, &[]).await?;
        self.ty = Some(ty);
        Ok(())
    }

    /// Opens a data connection for `cmd` (`RETR x`, `LIST -la`, `STOR x`), after an
    /// optional `REST offset`. On return the server has accepted the command.
    pub(crate) async fn data(&mut self, cmd: &str, rest: u64) -> Result<Data, Fail> {
        self.busy = true;
        let r = self.open_data(cmd, rest).await;
        if let Err(e) = &r {
            self.busy = false;
            if e.breaks_session() {
                self.broken = true;
            }
        }
        r
    }

    async fn open_data(&mut self, cmd: &str, rest: u64) -> Result<Data, Fail> {
        let limit = self.cfg.timeout;
        if self.cfg.passive {
            let addr = self.passive_addr().await?;
            let tcp = deadline(limit, "the data connection", async {
                connect_from(self.cfg.bind_addr, addr)
                    .await
                    .map_err(Fail::Io)
            })
            .await?;
            if self.start_transfer(cmd, rest).await?.is_none() {
                return Ok(Data { conn: None });
            }
            self.secure(Data {
                conn: Some(Conn::Plain(tcp)),
            })
            .await
        } else {
            let listener = self.active_listener().await?;
            let started = self.start_transfer(cmd, rest).await?;
            if started.is_none() {
                return Ok(Data { conn: None });
            }
            let (tcp, from) = deadline(limit, "the server to connect back", async {
                listener.accept().await.map_err(Fail::Io)
            })
            .await?;
            if from.ip() != self.peer.ip() {
                // Only the server may connect back: anything else is a hijack attempt.
                return Err(Fail::Protocol(format!(
                    "a data connection came from {}, not from the server",
                    from.ip()
                )));
            }
            self.secure(Data {
                conn: Some(Conn::Plain(tcp)),
            })
            .await
        }
    }

    /// `REST` + the command; `Some(())` when the server will transfer (1xx), `None` when
    /// it answered 2xx straight away (an empty listing on some servers).
    async fn start_transfer(&mut self, cmd: &str, rest: u64) -> Result<Option<()>, Fail> {
        if rest > 0 {
            let r = self.ctl.cmd(&format!("REST {rest}")).await?;
            if r.code != 350 {
                return Err(Fail::Reply(r));
            }
        }
        let r = self.ctl.cmd(cmd).await?;
        if r.is_preliminary() {
            Ok(Some(()))
        } else if r.is_ok() {
            self.busy = false;
            Ok(None)
        } else {
            Err(Fail::Reply(r))
        }
    }

    /// TLS on the data connection when `PROT P` is in force.
    async fn secure(&mut self, d: Data) -> Result<Data, Fail> {
        match (d.conn, &self.tls, self.prot_p) {
            (Some(Conn::Plain(tcp)), Some(t), true) => Ok(Data {
                conn: Some(t.wrap(tcp, self.cfg.timeout).await?),
            }),
            (conn, _, _) => Ok(Data { conn }),
        }
    }

    /// `EPSV`, falling back to `PASV` for good once refused. The address the server names
    /// in a `PASV` reply is ignored: data goes to the control connection's peer (servers
    /// behind NAT name private addresses, and a hostile one could name a third party).
    async fn passive_addr(&mut self) -> Result<SocketAddr, Fail> {
        let ip = self.peer.ip();
        if self.epsv {
            let r = self.ctl.cmd("EPSV").await?;
            if r.code == 229 {
                let port = parse_epsv(&r.text)
                    .ok_or_else(|| Fail::Protocol(format!("cannot read {}", r.show())))?;
                return Ok(SocketAddr::new(ip, port));
            }
            if r.code == 421 {
                return Err(Fail::Reply(r));
            }
            self.epsv = false;
        }
        let r = self.ctl.cmd("PASV").await?;
        if r.code != 227 {
            return Err(Fail::Reply(r));
        }
        let port = parse_pasv(&r.text)
            .ok_or_else(|| Fail::Protocol(format!("cannot read {}", r.show())))?;
        Ok(SocketAddr::new(ip, port))
    }

    /// Active mode: listen on `bind_addr` (or the control connection's local address) and
    /// tell the server with `EPRT` (IPv6) or `PORT` (IPv4).
    async fn active_listener(&mut self) -> Result<TcpListener, Fail> {
        let ip = match self.cfg.bind_addr {
            Some(ip) if !ip.is_unspecified() => ip,
            _ => self.local.ip(),
        };
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let port = listener.local_addr()?.port();
        let cmd = match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                format!(
                    "PORT {},{},{},{},{},{}",
                    o[0],
                    o[1],
                    o[2],
                    o[3],
                    port >> 8,
                    port & 0xff
                )
            }
            IpAddr::V6(v6) => format!("EPRT |2|{v6}|{port}|"),
        };
        self.ctl.ok(&cmd, &[]).await?;
        Ok(listener)
    }

    /// The final reply of a transfer, after its data connection has been read to the end
    /// or written and closed. Anything but 2xx is a failed transfer.
    pub(crate) async fn finish(&mut self) -> Result<Reply, Fail> {
        // A slow server may take a while to confirm a large upload.
        let r = self.ctl.reply().await;
        self.busy = false;
        self.last_used = Instant::now();
        match r {
            Ok(r) if r.is_ok() => Ok(r),
            Ok(r) => {
                if r.code == 421 {
                    self.broken = true;
                }
                Err(Fail::Reply(r))
            }
            Err(e) => {
                self.broken = true;
                Err(e)
            }
        }
    }

    /// Reads a whole data transfer as lines (a listing), calling `line` for each one, then
    /// reads the final reply. A line longer than the limit or a data timeout fails it.
    pub(crate) async fn read_lines(
        &mut self,
        cmd: &str,
        mut line: impl FnMut(&[u8]),
    ) -> Result<(), Fail> {
        self.set_type(Type::Ascii).await?;
        let data = self.data(cmd, 0).await?;
        if let Some(conn) = data.conn {
            let limit = self.cfg.timeout;
            let mut r = BufReader::with_capacity(64 * 1024, conn);
            let mut buf = Vec::with_capacity(256);
            let read = async {
                loop {
                    match deadline(limit, "listing data", read_line(&mut r, &mut buf)).await {
                        Ok(true) => line(&buf),
                        Ok(false) => return Ok(()),
                        Err(e) => return Err(e),
                    }
                }
            }
            .await;
            if let Err(e) = read {
                self.broken = true;
                self.busy = false;
                return Err(e);
            }
            drop(r);
            self.finish().await?;
        }
        Ok(())
    }

    /// Reads a whole (small) file into memory: `ls_lR_file`.
    pub(crate) async fn read_all(&mut self, path: &str, max: u64) -> Result<Vec<u8>, Fail> {
        self.set_type(Type::Image).await?;
        let data = self.data(&format!("RETR {path}"), 0).await?;
        let mut out = Vec::new();
        if let Some(mut conn) = data.conn {
            let limit = self.cfg.timeout;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = deadline(limit, "file data", async {
                    conn.read(&mut buf).await.map_err(Fail::Io)
                })
                .await
                .inspect_err(|_| self.broken = true)?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
                if out.len() as u64 > max {
                    self.broken = true;
                    return Err(Fail::Protocol(format!("{path} is larger than {max} bytes")));
                }
            }
            let _ = conn.shutdown().await;
            drop(conn);
            self.finish().await?;
        }
        Ok(out)
    }

    /// Closes the session politely.
    pub(crate) async fn quit(self) {
        self.ctl.quit().await;
    }
}

/// Connects the control connection, from `bind_addr` when one is set. Tries every address
/// the host name resolves to, in order.
async fn connect_tcp(cfg: &FtpConfig) -> Result<TcpStream, Fail> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((cfg.host.as_str(), cfg.port))
        .await?
        .collect();
    let mut last = None;
    for addr in addrs {
        match connect_from(cfg.bind_addr, addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(Fail::Io(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("`{}` resolves to no address", cfg.host),
        )
    })))
}

/// A TCP connection to `to`, bound to `bind` first when it is a specific address of the
/// same family.
async fn connect_from(bind: Option<IpAddr>, to: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = if to.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = bind
        && !ip.is_unspecified()
        && ip.is_ipv4() == to.is_ipv4()
    {
        sock.bind(SocketAddr::new(ip, 0))?;
    }
    sock.connect(to).await
}

/// The port of a `229 Entering Extended Passive Mode (|||6446|)` reply.
fn parse_epsv(text: &str) -> Option<u16> {
    let start = text.find('(')?;
    let end = text[start..].find(')')? + start;
    let inner = &text[start + 1..end];
    let delim = inner.chars().next()?;
    let parts: Vec<&str> = inner.split(delim).collect();
    // (|||port|) splits into ["", "", "", "port", ""].
    parts.get(3)?.parse().ok().filter(|&p| p != 0)
}

/// The port of a `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` reply (the address is
/// not used; see `passive_addr`).
fn parse_pasv(text: &str) -> Option<u16> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let nums: Vec<u16> = text[start..]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(6)
        .map(|s| s.parse().ok())
        .collect::<Option<_>>()?;
    if nums.len() != 6 || nums[4] > 255 || nums[5] > 255 {
        return None;
    }
    Some(nums[4] * 256 + nums[5]).filter(|&p| p != 0)
}

/// How long an idle session may sit before it is not trusted to still be open without a
/// `NOOP` first (servers close idle sessions after 60 to 900 seconds).
pub(crate) const IDLE_CHECK: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passive_replies() {
        assert_eq!(
            parse_epsv("Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(parse_epsv("ok (!!!21!)"), Some(21));
        assert_eq!(parse_epsv("nonsense"), None);
        assert_eq!(
            parse_pasv("Entering Passive Mode (127,0,0,1,195,80)."),
            Some(195 * 256 + 80)
        );
        assert_eq!(parse_pasv("Entering Passive Mode 10,0,0,1,4,1"), Some(1025));
        assert_eq!(parse_pasv("(1,2,3)"), None);
    }

    #[test]
    fn feat_is_read() {
        let f = ServerFeat::parse(
            "Features:\n EPRT\n EPSV\n MDTM\n PASV\n REST STREAM\n SIZE\n TVFS\n UTF8\n MLST type*;size*;modify*;\nEnd",
        );
        assert!(f.mlsd && f.mdtm && f.size && f.rest && f.epsv && f.utf8 && !f.mfmt);
        let f = ServerFeat::parse("Features:\n MDTM\n SIZE\nEnd");
        assert!(!f.mlsd && !f.rest);
    }
}
