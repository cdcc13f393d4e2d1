//! Fetching one URL into one file of the snapshot, for localize: one pooled reqwest client
//! (rustls; no transparent decompression, so a `.gz` is stored as the server sent it), a
//! per-host limit on top of the caller's overall one, retries with back-off for what may
//! pass (connection failures, timeouts, cut bodies, 5xx, 408, 429), and the sync engine's
//! safety rule: the body goes to `.in.NAME.` in the same folder, is checked against the
//! announced length, gets the server's time, and only then is renamed into place.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, HeaderMap, HeaderValue, LAST_MODIFIED};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

use crate::recipe::FetchSettings;

/// A failed attempt.
#[derive(Debug)]
struct Attempt {
    message: String,
    retry: bool,
}

impl Attempt {
    fn retry(m: impl Into<String>) -> Self {
        Attempt {
            message: m.into(),
            retry: true,
        }
    }
    fn fatal(m: impl Into<String>) -> Self {
        Attempt {
            message: m.into(),
            retry: false,
        }
    }
}

/// Downloads files, sharing connections and per-host limits.
#[derive(Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    retries: u32,
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// What a fetch stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes stored.
    pub size: u64,
    /// Attempts it took.
    pub attempts: u32,
}

impl Fetcher {
    /// A fetcher with the recipe's `[fetch]` settings.
    pub fn new(s: &FetchSettings) -> Result<Fetcher, String> {
        let mut headers = HeaderMap::new();
        // Store bytes as served: a server may otherwise compress on the fly.
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let client = reqwest::Client::builder()
            .user_agent(s.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(Duration::from_secs(s.timeout))
            .read_timeout(Duration::from_secs(s.timeout))
            .pool_max_idle_per_host(s.per_host)
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        Ok(Fetcher {
            client,
            retries: s.retries,
            per_host: s.per_host,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    fn host_slot(&self, url: &str) -> Arc<Semaphore> {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| {
                u.host_str()
                    .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
            })
            .unwrap_or_default();
        self.hosts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }

    /// Fetches `url` into `dest` (its folders are created). Errors name the cause and the
    /// number of attempts.
    pub async fn fetch(&self, url: &str, dest: &Path) -> Result<Fetched, String> {
        let slot = self.host_slot(url);
        let _permit = slot.acquire().await.map_err(|e| e.to_string())?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(url, dest).await {
                Ok(size) => {
                    return Ok(Fetched {
                        size,
                        attempts: attempt,
                    });
                }
                Err(e) if e.retry && attempt <= self.retries => {
                    // 0.25 s, 0.5 s, 1 s ... capped at 8 s.
                    let wait = Duration::from_millis(250u64 << (attempt - 1).min(5));
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    return Err(if attempt > 1 {
                        format!("{} (after {attempt} attempts)", e.message)
                    } else {
                        e.message
                    });
                }
            }
        }
    }

    async fn once(&self, url: &str, dest: &Path) -> Result<u64, Attempt> {
        let mut resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| Attempt::retry(error_chain(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let m = format!("HTTP {status}");
            return Err(
                if status.is_server_error()
                    || status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::REQUEST_TIMEOUT
                {
                    Attempt::retry(m)
                } else {
                    Attempt::fatal(m)
                },
            );
        }
        let expected = resp.content_length();
        let mtime = resp
            .headers()
            .get(LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok());
        let dir = dest.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| Attempt::fatal(format!("cannot create {}: {e}", dir.display())))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(crate::paths::temp_name(&name));
        let local = |e: std::io::Error| Attempt::fatal(format!("{}: {e}", tmp.display()));
        let mut f = tokio::fs::File::create(&tmp).await.map_err(local)?;
        let mut got: u64 = 0;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    f.write_all(&c).await.map_err(local)?;
                    got += c.len() as u64;
                }
                Ok(None) => break,
                Err(e) => {
                    drop(f);
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(Attempt::retry(error_chain(&e)));
                }
            }
        }
        f.flush().await.map_err(local)?;
        drop(f);
        if let Some(n) = expected
            && n != got
        {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(Attempt::retry(format!("got {got} bytes of {n}")));
        }
        if let Some(t) = mtime {
            let _ = filetime::set_file_mtime(&tmp, filetime::FileTime::from_system_time(t));
        }
        tokio::fs::rename(&tmp, dest)
            .await
            .map_err(|e| Attempt::fatal(format!("cannot rename into {}: {e}", dest.display())))?;
        Ok(got)
    }
}

/// An error with its causes (reqwest's own message is often just "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
