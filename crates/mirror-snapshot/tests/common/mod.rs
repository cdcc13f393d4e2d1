//! Shared fixtures of the snapshot tests: two in-process HTTP servers on 127.0.0.1 (the
//! "external" media host and an archive host) that count requests and can be slow or
//! flaky, and a generated site of about 300 pages with every kind of reference the engine
//! handles, plus the recipe that snapshots it.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;

/// What a test server holds and has seen.
#[derive(Default)]
pub struct ServerState {
    files: Mutex<HashMap<String, Vec<u8>>>,
    hits: Mutex<BTreeMap<String, u32>>,
    flaky: Mutex<HashMap<String, u32>>,
    delay_ms: AtomicU64,
}

/// A file server on 127.0.0.1.
pub struct Server {
    /// `http://127.0.0.1:PORT/`.
    pub base: String,
    /// Its files and counters.
    pub state: Arc<ServerState>,
}

impl Server {
    /// Starts a server on a free port, on the current runtime.
    pub async fn start() -> Server {
        let state = Arc::new(ServerState::default());
        let app = Router::new().fallback(serve).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Server {
            base: format!("http://127.0.0.1:{port}/"),
            state,
        }
    }

    /// Serves `body` at `path` (no leading slash).
    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.state
            .files
            .lock()
            .unwrap()
            .insert(format!("/{path}"), body.into());
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests seen for `path`.
    pub fn hits(&self, path: &str) -> u32 {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(&format!("/{path}"))
            .copied()
            .unwrap_or(0)
    }

    /// Every path requested, with counts.
    pub fn all_hits(&self) -> BTreeMap<String, u32> {
        self.state.hits.lock().unwrap().clone()
    }

    /// Forgets the counts.
    pub fn reset_hits(&self) {
        self.state.hits.lock().unwrap().clear();
    }

    /// The next `n` requests for `path` answer 503.
    pub fn flaky(&self, path: &str, n: u32) {
        self.state
            .flaky
            .lock()
            .unwrap()
            .insert(format!("/{path}"), n);
    }

    /// Every answer waits this long.
    pub fn delay(&self, ms: u64) {
        self.state.delay_ms.store(ms, Ordering::Relaxed);
    }
}

async fn serve(State(st): State<Arc<ServerState>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    *st.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let delay = st.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let fail = {
        let mut f = st.flaky.lock().unwrap();
        match f.get_mut(&path) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    };
    if fail {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Body::from("busy"))
            .unwrap();
    }
    let body = st.files.lock().unwrap().get(&path).cloned();
    match body {
        Some(b) => Response::builder()
            .header(header::LAST_MODIFIED, "Tue, 03 Mar 2020 10:00:00 GMT")
            .header(header::CONTENT_LENGTH, b.len())
            .body(Body::from(b))
            .unwrap(),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Body::from("not found"))
            .unwrap(),
    }
}

/// Number of course folders; each has an index page and 9 lecture pages.
pub const COURSES: usize = 30;

/// The generated fixture: the site folder, the recipe, and what the servers serve.
pub struct Fixture {
    /// The test's temporary folder (recipe, site, work and dist folders live here).
    pub dir: PathBuf,
    /// The recipe file.
    pub recipe: PathBuf,
    /// `prod/`, the published site the snapshot copies.
    pub site: PathBuf,
    /// Every external file the snapshot should hold: URL → path in the snapshot.
    pub localized: BTreeMap<String, String>,
    /// The URL no server has.
    pub missing_url: String,
    /// The URL that fails twice before it works.
    pub flaky_path: String,
}

fn write(path: &Path, body: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// Builds the site in `dir/prod`, fills both servers, and writes `dir/recipe.toml`.
pub fn build_fixture(dir: &Path, media: &Server, archive: &Server) -> Fixture {
    let site = dir.join("prod");
    let m = |p: &str| media.url(&format!("download/{p}"));
    let a = |p: &str| archive.url(&format!("items/{p}"));
    let mut localized = BTreeMap::new();
    let serve_media = |localized: &mut BTreeMap<String, String>, p: &str, body: Vec<u8>| {
        media.put(&format!("download/{p}"), body);
        localized.insert(m(p), format!("OcwExport/media/{p}"));
    };

    // Top level: the home page (donation link to edit, a flaky image), a refresh page.
    serve_media(&mut localized, "img/flaky.png", b"flaky-png".to_vec());
    serve_media(&mut localized, "img/bg.png", b"bg-png".to_vec());
    serve_media(&mut localized, "fonts/f.woff", b"woff".to_vec());
    serve_media(
        &mut localized,
        "css/theme.css",
        b".t{background:url(../img/theme-bg.png)}\n".to_vec(),
    );
    serve_media(&mut localized, "img/theme-bg.png", b"theme-bg".to_vec());
    serve_media(&mut localized, "applets/Sim.class", b"class".to_vec());
    serve_media(&mut localized, "applets/sim.jar", b"jar".to_vec());
    let mut courses = String::new();
    for i in 0..COURSES {
        courses.push_str(&format!(
            "<li><a href=\"http://ocw.example.edu/courses/c{i}/\">Course {i}</a></li>\n"
        ));
    }
    write(
        &site.join("index.html"),
        format!(
            r#"<!DOCTYPE html><html><head><title>OCW</title>
<link rel="stylesheet" href="/css/main.css"></head><body>
<img src="{flaky}" alt="">
<p><a href="https://giving.example.edu/">Give now</a> &amp; thanks.</p>
<ul>
{courses}</ul>
<a href="https://ocw.example.edu/donate.html">donate</a>
<a href="http://ocw.example.edu/courses/c3/latin.html">latin</a>
<a href="courses/c5/broken.html">broken</a>
<img src="/OcwExport/kept/used.png" alt="">
</body></html>
"#,
            flaky = m("img/flaky.png")
        ),
    );
    write(
        &site.join("donate.html"),
        "<html><body><a href=\"/\">home</a></body></html>\n",
    );
    write(
        &site.join("old.html"),
        "<html><head><meta http-equiv=\"refresh\" content=\"0; url=http://ocw.example.edu/index.html\"></head></html>\n",
    );
    write(
        &site.join("css/main.css"),
        format!(
            "@import url(\"http://ocw.example.edu/css/print.css\");\n@import \"fonts.css\";\n\
             body {{ background: url({bg}) }}\n.logo {{ background: url('/images/logo.png') }}\n",
            bg = m("img/bg.png")
        ),
    );
    write(
        &site.join("css/print.css"),
        "@media print { body { color: black } }\n",
    );
    write(
        &site.join("css/fonts.css"),
        format!(
            "@font-face {{ font-family: f; src: url(\"{}\") format(\"woff\") }}\n",
            m("fonts/f.woff")
        ),
    );
    write(&site.join("images/logo.png"), b"logo-png");
    // Files under the prune globs that no page reaches (a stylesheet nobody links keeps
    // nothing alive).
    write(&site.join("OcwExport/old/stale.png"), b"stale");
    write(
        &site.join("OcwExport/old/unused.css"),
        "a { background: url(only-from-unused.png) }\n",
    );
    write(&site.join("OcwExport/old/only-from-unused.png"), b"x");
    write(&site.join("OcwExport/kept/used.png"), b"used");

    let mut csv = String::from("url,path\n");
    for i in 0..COURSES {
        let c = site.join(format!("courses/c{i}"));
        write(&site.join(format!("images/c{i}.png")), format!("png{i}"));
        let mut lectures = String::new();
        for j in 0..9 {
            lectures.push_str(&format!("<a href=\"lec{j}.html\">Lecture {j}</a>\n"));
        }
        write(
            &c.join("index.html"),
            format!(
                "<html><head><link rel=stylesheet href=\"../../css/main.css\"></head><body>\n\
                 <a href=\"/\">home</a> <a href=\"/courses/c{next}/index.html\">next</a>\n{lectures}\
                 <img src=\"/images/c{i}.png\" srcset=\"/images/c{i}.png 1x, {hi} 2x\">\n</body></html>\n",
                next = (i + 1) % COURSES,
                hi = m(&format!("img/hi/c{i}.png"))
            ),
        );
        serve_media(
            &mut localized,
            &format!("img/hi/c{i}.png"),
            format!("hi{i}").into_bytes(),
        );

        // Each lecture page carries one more kind of reference.
        for j in 0..9 {
            let extra = match j {
                0 => {
                    let video = media.url(&format!("videos/vid{i}.mp4"));
                    media.put(&format!("videos/vid{i}.mp4"), format!("mp4-{i}"));
                    localized.insert(video.clone(), format!("OcwExport/youtube/vid{i}.mp4"));
                    csv.push_str(&format!("{video},OcwExport/youtube/vid{i}.mp4\n"));
                    format!(
                        "<iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/vid{i}?rel=0\" \
                         title=\"Lecture &quot;{i}&quot;\" allowfullscreen></iframe>"
                    )
                }
                1 => {
                    serve_media(
                        &mut localized,
                        &format!("notes/c{i}.pdf"),
                        format!("pdf{i}").into_bytes(),
                    );
                    format!(
                        "<a href=\"{}\">notes (PDF)</a>",
                        m(&format!("notes/c{i}.pdf"))
                    )
                }
                2 => {
                    serve_media(
                        &mut localized,
                        &format!("img/tex{i}.png"),
                        format!("tex{i}").into_bytes(),
                    );
                    format!(
                        "<div style=\"background: url(&quot;{}&quot;)\">x</div>\n\
                         <style>.x {{ background: url(\"http://ocw.example.edu/images/logo.png\") }}</style>",
                        m(&format!("img/tex{i}.png"))
                    )
                }
                3 => {
                    serve_media(
                        &mut localized,
                        &format!("img/poster{i}.jpg"),
                        format!("jpg{i}").into_bytes(),
                    );
                    for ext in ["mp4", "vtt"] {
                        archive.put(&format!("items/v{i}.{ext}"), format!("{ext}{i}"));
                        localized.insert(
                            a(&format!("v{i}.{ext}")),
                            format!("OcwExport/archive/v{i}.{ext}"),
                        );
                    }
                    format!(
                        "<video poster=\"{}\" src=\"{}\"><track src=\"{}\"></video>",
                        m(&format!("img/poster{i}.jpg")),
                        a(&format!("v{i}.mp4")),
                        a(&format!("v{i}.vtt"))
                    )
                }
                4 => format!(
                    "<applet code=\"Sim.class\" codebase=\"{}\" archive=\"sim.jar\" width=\"300\" height=\"200\"></applet>",
                    m("applets/")
                ),
                5 => {
                    serve_media(
                        &mut localized,
                        &format!("flash/f{i}.swf"),
                        format!("swf{i}").into_bytes(),
                    );
                    let f = m(&format!("flash/f{i}.swf"));
                    format!(
                        "<object data=\"{f}\" type=\"application/x-shockwave-flash\"><param name=\"movie\" value=\"{f}\"><embed src=\"{f}\"></object>"
                    )
                }
                6 => {
                    serve_media(
                        &mut localized,
                        &format!("img/lazy{i}.png"),
                        format!("lazy{i}").into_bytes(),
                    );
                    format!(
                        "<img data-src=\"{}\" alt=\"\">",
                        m(&format!("img/lazy{i}.png"))
                    )
                }
                7 => format!("<link rel=\"stylesheet\" href=\"{}\">", m("css/theme.css")),
                _ => String::from("<p>Plain page.</p>"),
            };
            write(
                &c.join(format!("lec{j}.html")),
                format!(
                    "<!DOCTYPE html>\n<html><head><title>C{i} L{j}</title>\
                     <link rel=\"stylesheet\" href=\"../../css/main.css\"></head><body>\n\
                     <a href=\"http://ocw.example.edu/courses/c{i}/index.html\">course</a>\n\
                     <a href=\"/courses/c{next}/\">next course</a>\n\
                     <a href=\"lec{nj}.html#top\">next lecture</a>\n\
                     <img src=\"/images/c{i}.png\" srcset=\"/images/c{i}.png 1x, {hi} 2x\" alt=\"\">\n\
                     {extra}\n</body></html>\n",
                    next = (i + 1) % COURSES,
                    nj = (j + 1) % 9,
                    hi = m(&format!("img/hi/c{i}.png"))
                ),
            );
        }
    }
    // A video listed but used by no page: prune removes it.
    let unused = media.url("videos/unused.mp4");
    media.put("videos/unused.mp4", "unused");
    csv.push_str(&format!("{unused},OcwExport/youtube/unused.mp4\n"));
    write(&dir.join("media.csv"), csv);

    // A page in windows-1252 that says so.
    let mut latin = b"<html><head><meta charset=\"windows-1252\"><title>Caf\xe9</title></head><body>\n<p>Caf\xe9 cr\xe8me \x96 r\xe9sum\xe9</p>\n".to_vec();
    latin.extend_from_slice(
        b"<a href=\"http://ocw.example.edu/courses/c3/index.html\">back</a>\n</body></html>\n",
    );
    write(&site.join("courses/c3/latin.html"), latin);

    // A page the HTML rewriter cannot read (UTF-16): copied as it is, and reported.
    let mut utf16 = vec![0xff, 0xfe];
    for u in
        "<html><body><a href=\"http://ocw.example.edu/\">home</a></body></html>\n".encode_utf16()
    {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    write(&site.join("courses/c7/utf16.html"), utf16);

    // A page with a link to a page that does not exist, and an image no server has.
    let missing_url = m("img/missing.png");
    write(
        &site.join("courses/c5/broken.html"),
        format!(
            "<html><body><a href=\"/courses/gone.html\">gone</a><img src=\"{missing_url}\"></body></html>\n"
        ),
    );

    std::fs::write(
        dir.join("recipe.toml"),
        format!(
            r#"# The test site's recipe.
work_dir = "work"
publish = "dist"
keep = 2
site = ["http://ocw.example.edu/", "https://ocw.example.edu/"]

[[copy]]
from = "prod"

[[localize]]
prefix = "{media}download/"
to = "OcwExport/media/"

[[localize]]
prefix = "{archive}items/"
to = "OcwExport/archive/"

[[media]]
csv = "media.csv"

[[embed]]
match = 'https?://www\.youtube\.com/embed/([A-Za-z0-9_-]+)'
local = "OcwExport/youtube/$1.mp4"

[[edit]]
pages = '^index\.html?$'
from = "https://giving.example.edu/"
to = "donate.html"

[prune]
unreferenced = ["OcwExport/**"]

[fetch]
parallel = 4
retries = 3
timeout = 20

[verify]
max_missing = 1
"#,
            media = media.base,
            archive = archive.base
        ),
    )
    .unwrap();
    media.flaky("download/img/flaky.png", 2);
    Fixture {
        dir: dir.to_path_buf(),
        recipe: dir.join("recipe.toml"),
        site,
        localized,
        missing_url,
        flaky_path: "download/img/flaky.png".into(),
    }
}

/// Collects messages instead of printing them.
#[derive(Default)]
pub struct Log(pub Mutex<Vec<String>>);

impl mirror_sync::Events for Log {
    fn message(&self, _level: u8, text: &str) {
        self.0.lock().unwrap().push(text.to_owned());
    }
    fn progress(&self, _event: mirror_sync::Progress) {}
}

/// Every file under `root` (state folder left out), path → bytes.
pub fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((d, rel)) = stack.pop() {
        for de in std::fs::read_dir(&d).unwrap() {
            let de = de.unwrap();
            let name = de.file_name().into_string().unwrap();
            if rel.is_empty() && name == ".mirror-snapshot" {
                continue;
            }
            let p = format!("{rel}{name}");
            if de.file_type().unwrap().is_dir() {
                stack.push((de.path(), format!("{p}/")));
            } else {
                out.insert(p, std::fs::read(de.path()).unwrap());
            }
        }
    }
    out
}
