//! A pool of logged-in sessions to one server, shared process-wide so that consecutive
//! packages on the same site and user reuse their connections (spec §4.11).
//!
//! FTP runs one transfer per control connection, so concurrency means several logged-in
//! sessions. The pool hands out at most `parallel` of them at once ([`Lease`]); a lease
//! returns its session when dropped, unless the session broke or was dropped mid-command.
//! A server that refuses another login because it has too many ("421 Too many
//! connections", "530 ... maximum ...") shrinks the pool to what it accepts instead of
//! failing the run; with no session at all, logins are retried with back-off.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::FtpConfig;
use super::conn::{Fail, TlsSetup};
use super::session::{IDLE_CHECK, ServerFeat, Session};

/// How often a login refused for "too many sessions" is retried when we hold none.
const LOGIN_RETRIES: u32 = 6;

/// Sessions to one server as one user.
pub(crate) struct Pool {
    cfg: Arc<FtpConfig>,
    tls: Option<Arc<TlsSetup>>,
    idle: Mutex<Vec<Session>>,
    permits: Arc<Semaphore>,
    /// Sessions the pool may have at once (shrinks when the server refuses logins).
    cap: AtomicUsize,
    /// Sessions open now (idle or leased).
    alive: AtomicUsize,
    /// Logins refused because the server had too many sessions.
    pub(crate) refusals: AtomicU32,
    /// What the first session learnt from `FEAT`.
    feat: OnceLock<ServerFeat>,
    /// The login directory, from the first session's `PWD` (for relative roots).
    pub(crate) home: tokio::sync::OnceCell<String>,
}

/// The identity of a pool: sessions are interchangeable only between remotes that agree
/// on all of this.
// No Debug: the key holds the password.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    host: String,
    port: u16,
    user: String,
    password: String,
    account: String,
    group: String,
    group_password: String,
    tls: super::FtpTls,
    passive: bool,
    bind: Option<std::net::IpAddr>,
    max: usize,
    write: bool,
}

impl Key {
    fn of(cfg: &FtpConfig) -> Key {
        Key {
            host: cfg.host.clone(),
            port: cfg.port,
            user: cfg.user.clone(),
            password: cfg.password.0.clone(),
            account: cfg.account.0.clone(),
            group: cfg.group.clone(),
            group_password: cfg.group_password.0.clone(),
            tls: cfg.tls,
            passive: cfg.passive,
            bind: cfg.bind_addr,
            max: cfg.max_sessions,
            write: cfg.write,
        }
    }
}

/// The pools kept for the next package. mirror.pl kept one connection and closed it when
/// the next package named another site or user; we keep the pool of the last site.
static SHARED: Mutex<Vec<(Key, Arc<Pool>)>> = Mutex::new(Vec::new());

impl Pool {
    /// The pool for `cfg`: the shared one when `cfg.reuse` and the previous package used
    /// the same server and user, otherwise a new one (shared from now on if `cfg.reuse`).
    pub(crate) fn for_config(cfg: Arc<FtpConfig>) -> Result<Arc<Pool>, String> {
        let key = Key::of(&cfg);
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if cfg.reuse
            && let Some((_, pool)) = shared.iter().find(|(k, _)| *k == key)
        {
            return Ok(pool.clone());
        }
        // Another site (or user) now: close the pools nobody uses any more.
        shared.retain(|(k, p)| *k == key || Arc::strong_count(p) > 1);
        let tls = match cfg.tls {
            super::FtpTls::None => None,
            _ => Some(Arc::new(TlsSetup::new(&cfg.host, &cfg.tls_roots)?)),
        };
        let max = cfg.max_sessions.max(1);
        let pool = Arc::new(Pool {
            tls,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(max)),
            cap: AtomicUsize::new(max),
            alive: AtomicUsize::new(0),
            refusals: AtomicU32::new(0),
            feat: OnceLock::new(),
            home: tokio::sync::OnceCell::new(),
            cfg: cfg.clone(),
        });
        if cfg.reuse {
            shared.retain(|(k, _)| *k != key);
            shared.push((key, pool.clone()));
        }
        Ok(pool)
    }

    /// Forgets the shared pool of `cfg`'s server (`disconnect=true`): its sessions close
    /// once the last remote using it is gone.
    pub(crate) fn forget(cfg: &FtpConfig) {
        let key = Key::of(cfg);
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        shared.retain(|(k, _)| *k != key);
    }

    /// What the server can do, once a session has logged in.
    pub(crate) fn feat(&self) -> Option<&ServerFeat> {
        self.feat.get()
    }

    /// How many sessions may run at once now.
    pub(crate) fn cap(&self) -> usize {
        self.cap.load(Ordering::Relaxed).max(1)
    }

    /// A logged-in session: an idle one, or a new one. Waits while all are leased.
    pub(crate) async fn get(self: &Arc<Self>) -> Result<Lease, Fail> {
        let mut refused = 0u32;
        let mut delay = self.cfg.retry_base;
        loop {
            let permit = self
                .permits
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| Fail::Protocol("the session pool was closed".into()))?;
            if let Some(s) = self.take_idle().await {
                return Ok(self.lease(s, permit));
            }
            match Session::open(self.cfg.clone(), self.tls.clone()).await {
                Ok(s) => {
                    self.alive.fetch_add(1, Ordering::Relaxed);
                    let _ = self.feat.set(s.feat.clone());
                    return Ok(self.lease(s, permit));
                }
                Err(e) if e.too_many() => {
                    self.refusals.fetch_add(1, Ordering::Relaxed);
                    if self.alive.load(Ordering::Relaxed) > 0 && self.cap() > 1 {
                        // The server takes fewer sessions than we asked for: make do with
                        // the ones we have (this permit is gone for good).
                        permit.forget();
                        self.cap.fetch_sub(1, Ordering::Relaxed);
                        continue;
                    }
                    refused += 1;
                    if refused > LOGIN_RETRIES {
                        return Err(e);
                    }
                    drop(permit);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(30));
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// An idle session that still answers, if there is one.
    async fn take_idle(&self) -> Option<Session> {
        loop {
            let s = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let mut s = s?;
            if s.last_used.elapsed() < IDLE_CHECK {
                return Some(s);
            }
            // Idle for a while: the server may have closed it. A NOOP tells.
            match s.raw("NOOP").await {
                Ok(r) if r.is_ok() => return Some(s),
                _ => {
                    self.alive.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    fn lease(self: &Arc<Self>, s: Session, permit: OwnedSemaphorePermit) -> Lease {
        Lease {
            session: Some(s),
            pool: self.clone(),
            _permit: permit,
        }
    }

    fn give_back(&self, s: Session) {
        if s.broken || s.busy {
            self.alive.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(s);
    }

    /// Closes the idle sessions politely (QUIT).
    pub(crate) async fn close_idle(&self) {
        let idle: Vec<Session> =
            std::mem::take(&mut *self.idle.lock().unwrap_or_else(|e| e.into_inner()));
        for s in idle {
            self.alive.fetch_sub(1, Ordering::Relaxed);
            s.quit().await;
        }
    }
}

/// A session on loan from the pool; it goes back when dropped.
pub(crate) struct Lease {
    session: Option<Session>,
    pool: Arc<Pool>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// Marks the session as not to be reused.
    pub(crate) fn discard(&mut self) {
        if let Some(s) = &mut self.session {
            s.broken = true;
        }
    }
}

impl Deref for Lease {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a lease holds its session until dropped")
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Session {
        self.session
            .as_mut()
            .expect("a lease holds its session until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            self.pool.give_back(s);
        }
    }
}
