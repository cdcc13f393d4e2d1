//! A small scripted FTP server on 127.0.0.1 for what real servers will not do on request:
//! hostile listings (`../x`, `/etc/x`, a symlink to `/`), a data connection dropped in the
//! middle of a file, logins refused for "too many connections", `LIST -R` ignored.
//!
//! The tree is virtual: each directory's listing is given as raw lines (`LIST` or `MLSD`
//! text, sent verbatim), and each file as bytes and a time. Counters record what clients
//! did, for the tests to check.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the server serves and how it misbehaves.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Advertise `MLST` in `FEAT` and answer `MLSD` (with the directory's lines).
    pub mlsd: bool,
    /// Advertise and answer `MDTM`.
    pub mdtm: bool,
    /// Listing lines per absolute directory (`/`, `/sub`), sent verbatim for `LIST` (and
    /// `MLSD` when `mlsd`). A directory not in the map does not exist.
    pub dirs: BTreeMap<String, Vec<String>>,
    /// Files per absolute path: content and modification time (Unix seconds).
    pub files: BTreeMap<String, (Vec<u8>, i64)>,
    /// Sessions allowed at once; the next login gets `530 ... too many ...`.
    pub max_sessions: Option<usize>,
    /// `RETR` of this path sends only this many bytes, then closes the data connection
    /// and replies `426`, this many times (later attempts succeed).
    pub drop_retr: Option<(String, u64, usize)>,
}

/// What clients did.
#[derive(Debug, Default)]
pub struct Counters {
    /// Successful logins.
    pub logins: AtomicUsize,
    /// Logins refused for too many sessions.
    pub refused: AtomicUsize,
    /// Sessions open now.
    pub open: AtomicUsize,
    /// Most sessions open at once.
    pub peak: AtomicUsize,
    /// `RETR` commands.
    pub retr: AtomicUsize,
    /// `REST` offsets received, in order.
    pub rests: Mutex<Vec<u64>>,
    /// Every command line received (passwords included: test data only).
    pub commands: Mutex<Vec<String>>,
}

/// A running scripted server; stopped when dropped.
pub struct ScriptServer {
    /// The control port on 127.0.0.1.
    pub port: u16,
    /// What clients did.
    pub counters: Arc<Counters>,
    script: Arc<Mutex<Script>>,
    task: JoinHandle<()>,
}

impl ScriptServer {
    /// Starts serving `script`. Must be called inside a tokio runtime.
    pub async fn start(script: Script) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let counters = Arc::new(Counters::default());
        let script = Arc::new(Mutex::new(script));
        let (c, s) = (counters.clone(), script.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (c, s) = (c.clone(), s.clone());
                tokio::spawn(async move {
                    let _ = session(sock, s, c.clone()).await;
                });
            }
        });
        ScriptServer {
            port,
            counters,
            script,
            task,
        }
    }

    /// Changes the script while running (a file changes, a listing changes).
    pub fn edit(&self, f: impl FnOnce(&mut Script)) {
        f(&mut self.script.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Decrements the open-session count when a session ends, however it ends.
struct OpenGuard(Arc<Counters>, bool);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if self.1 {
            self.0.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

async fn session(
    sock: TcpStream,
    script: Arc<Mutex<Script>>,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 mirror scripted server\r\n").await?;
    let mut guard = OpenGuard(counters.clone(), false);
    let mut cwd = "/".to_owned();
    let mut rest = 0u64;
    let mut pasv: Option<TcpListener> = None;
    let mut line = String::new();
    let snapshot = || script.lock().unwrap_or_else(|e| e.into_inner()).clone();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let l = line.trim_end_matches(['\r', '\n']).to_owned();
        counters
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(l.clone());
        let (verb, arg) = match l.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.to_owned()),
            None => (l.to_ascii_uppercase(), String::new()),
        };
        let sc = snapshot();
        let reply: String = match verb.as_str() {
            "USER" => "331 Password please\r\n".into(),
            "PASS" => {
                let now = counters.open.load(Ordering::SeqCst);
                if sc.max_sessions.is_some_and(|m| now >= m) {
                    counters.refused.fetch_add(1, Ordering::SeqCst);
                    w.write_all(b"530 Sorry, too many connections: the maximum number of clients is reached\r\n")
                        .await?;
                    return Ok(());
                }
                let open = counters.open.fetch_add(1, Ordering::SeqCst) + 1;
                guard.1 = true;
                counters.peak.fetch_max(open, Ordering::SeqCst);
                counters.logins.fetch_add(1, Ordering::SeqCst);
                "230 Logged in\r\n".into()
            }
            "SYST" => "215 UNIX Type: L8\r\n".into(),
            "FEAT" => {
                let mut f = String::from(
                    "211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n REST STREAM\r\n UTF8\r\n",
                );
                if sc.mdtm {
                    f.push_str(" MDTM\r\n");
                }
                if sc.mlsd {
                    f.push_str(" MLST type*;size*;modify*;\r\n");
                }
                f.push_str("211 End\r\n");
                f
            }
            "OPTS" | "TYPE" | "NOOP" => "200 OK\r\n".into(),
            "PWD" => format!("257 \"{cwd}\" is the current directory\r\n"),
            "CWD" => {
                let target = absolute(&cwd, &arg);
                if sc.dirs.contains_key(&target) {
                    cwd = target;
                    "250 OK\r\n".into()
                } else {
                    "550 No such directory\r\n".into()
                }
            }
            "REST" => {
                rest = arg.trim().parse().unwrap_or(0);
                counters
                    .rests
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(rest);
                format!("350 Restarting at {rest}\r\n")
            }
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0").await?;
                let p = l.local_addr()?.port();
                pasv = Some(l);
                format!("229 Entering Extended Passive Mode (|||{p}|)\r\n")
            }
            "PASV" => {
                let l = TcpListener::bind("127.0.0.1:0").await?;
                let p = l.local_addr()?.port();
                pasv = Some(l);
                format!(
                    "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                    p >> 8,
                    p & 255
                )
            }
            "SIZE" => match sc.files.get(&absolute(&cwd, &arg)) {
                Some((data, _)) => format!("213 {}\r\n", data.len()),
                None => "550 No such file\r\n".into(),
            },
            "MDTM" if sc.mdtm => match sc.files.get(&absolute(&cwd, &arg)) {
                Some((_, t)) => format!("213 {}\r\n", mdtm(*t)),
                None => "550 No such file\r\n".into(),
            },
            "LIST" | "NLST" | "MLSD" if verb != "MLSD" || sc.mlsd => {
                // Flags are ignored, as vsftpd does: `LIST -lRat` lists the current folder.
                let path = arg
                    .split_whitespace()
                    .filter(|a| !a.starts_with('-'))
                    .collect::<Vec<_>>()
                    .join(" ");
                let dir = if path.is_empty() {
                    cwd.clone()
                } else {
                    absolute(&cwd, &path)
                };
                match (sc.dirs.get(&dir), pasv.take()) {
                    (Some(lines), Some(l)) => {
                        w.write_all(b"150 Here comes the listing\r\n").await?;
                        let (mut data, _) = l.accept().await?;
                        for line in lines {
                            data.write_all(line.as_bytes()).await?;
                            data.write_all(b"\r\n").await?;
                        }
                        data.shutdown().await?;
                        drop(data);
                        "226 Directory send OK\r\n".into()
                    }
                    (None, _) => "550 No such directory\r\n".into(),
                    (_, None) => "425 Use PASV or EPSV first\r\n".into(),
                }
            }
            "RETR" => {
                counters.retr.fetch_add(1, Ordering::SeqCst);
                let path = absolute(&cwd, &arg);
                let offset = std::mem::take(&mut rest);
                match (sc.files.get(&path), pasv.take()) {
                    (Some((data, _)), Some(l)) => {
                        w.write_all(b"150 Opening BINARY mode data connection\r\n")
                            .await?;
                        let (mut conn, _) = l.accept().await?;
                        let from = (offset as usize).min(data.len());
                        let mut cut = None;
                        if let Some((p, n, times)) = &sc.drop_retr
                            && *p == path
                            && *times > 0
                        {
                            cut = Some(*n as usize);
                            if let Some(d) = script
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .drop_retr
                                .as_mut()
                            {
                                d.2 -= 1;
                            }
                        }
                        let to = cut.map_or(data.len(), |n| n.clamp(from, data.len()));
                        conn.write_all(&data[from..to]).await?;
                        conn.shutdown().await?;
                        drop(conn);
                        if cut.is_some() {
                            "426 Connection closed; transfer aborted\r\n".into()
                        } else {
                            "226 Transfer complete\r\n".into()
                        }
                    }
                    (None, _) => "550 Failed to open file\r\n".into(),
                    (_, None) => "425 Use PASV or EPSV first\r\n".into(),
                }
            }
            "QUIT" => {
                w.write_all(b"221 Goodbye\r\n").await?;
                return Ok(());
            }
            _ => "502 Command not implemented\r\n".into(),
        };
        w.write_all(reply.as_bytes()).await?;
    }
}

/// `arg` resolved against `cwd`, as an absolute path without a trailing slash.
fn absolute(cwd: &str, arg: &str) -> String {
    let joined = if arg.starts_with('/') {
        arg.to_owned()
    } else {
        format!("{cwd}/{arg}")
    };
    let segs: Vec<&str> = joined
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", segs.join("/"))
}

/// `YYYYMMDDHHMMSS` in UTC.
fn mdtm(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `ls -l` line for a file (`-rw-r--r--`), for building scripts.
pub fn ls_file(name: &str, size: usize, date: &str) -> String {
    format!("-rw-r--r--    1 1000     1000     {size:>8} {date} {name}")
}

/// `ls -l` line for a directory.
pub fn ls_dir(name: &str, date: &str) -> String {
    format!("drwxr-xr-x    2 1000     1000         4096 {date} {name}")
}

/// `ls -l` line for a symlink.
pub fn ls_link(name: &str, target: &str, date: &str) -> String {
    format!(
        "lrwxrwxrwx    1 1000     1000     {:>8} {date} {name} -> {target}",
        target.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdtm_is_utc_civil_time() {
        assert_eq!(mdtm(0), "19700101000000");
        assert_eq!(mdtm(1_300_000_007), "20110313070647");
    }

    #[test]
    fn paths_resolve() {
        assert_eq!(absolute("/", "a b"), "/a b");
        assert_eq!(absolute("/x", "/y/"), "/y");
        assert_eq!(absolute("/x", "./z"), "/x/z");
    }
}
