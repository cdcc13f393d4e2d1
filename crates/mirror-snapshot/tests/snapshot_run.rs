//! The whole pipeline on a generated site of ~300 pages with two HTTP servers on 127.0.0.1:
//! a first run, a run with no change, and a run after changing three pages and removing one.

mod common;

use std::path::Path;

use common::{COURSES, Fixture, Log, Server, build_fixture, files};
use mirror_snapshot::{Command, Options, Recipe, RunReport, execute, verify_dir};
use mirror_testkit::{Compare, NodeKind, snapshot};

async fn run(fx: &Fixture) -> RunReport {
    let recipe = Recipe::load(&fx.recipe).unwrap();
    let log = Log::default();
    execute(&recipe, Command::Run, &Options::default(), &log)
        .await
        .unwrap()
}

/// The tree under `root` without the build's state folder.
fn published_view(root: &Path) -> mirror_testkit::Snapshot {
    snapshot(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with(".mirror-snapshot"))
        .collect()
}

fn assert_published(fx: &Fixture) {
    let current = fx.dir.join("work/current");
    let want = published_view(&current);
    let got = published_view(&fx.dir.join("dist"));
    mirror_testkit::assert_trees_equal_with(&want, &got, Compare::MIRRORED);
    assert!(want.values().all(|n| n.kind != NodeKind::Other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let media = Server::start().await;
    let archive = Server::start().await;
    let fx = build_fixture(tmp.path(), &media, &archive);

    // ---- first run --------------------------------------------------------------------
    let r = run(&fx).await;
    let l = r.localize.as_ref().unwrap();
    // The one image no server has is the only failure, reported with its page.
    assert_eq!(l.failed.len(), 1, "{:?}", l.failed);
    assert_eq!(l.failed[0].url, fx.missing_url);
    assert_eq!(l.failed[0].pages, vec!["courses/c5/broken.html".to_owned()]);
    assert!(l.failed[0].error.contains("404"), "{}", l.failed[0].error);
    assert!(!r.ok, "a failed fetch fails the run: {:?}", r.problems);
    assert_eq!(
        r.problems,
        vec!["1 file(s) could not be fetched".to_owned()]
    );
    // The flaky image took three requests and is there.
    assert_eq!(media.hits(&fx.flaky_path), 3);
    assert!(l.retries >= 2);

    let current = fx.dir.join("work/current");
    assert!(
        std::fs::symlink_metadata(&current)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let out = files(&current);

    // Every localized file is there, byte for byte as served; the listed video no page
    // uses is not fetched at all (prune would remove it).
    assert_eq!(l.unused_media, 1);
    assert_eq!(media.hits("videos/unused.mp4"), 0);
    for (url, path) in &fx.localized {
        if path == "OcwExport/youtube/unused.mp4" {
            assert!(!out.contains_key(path), "{path} should not be there");
            continue;
        }
        let served = reqwest::get(url).await.unwrap().bytes().await.unwrap();
        assert_eq!(
            out.get(path).map(Vec::as_slice),
            Some(served.as_ref()),
            "{path}"
        );
    }
    assert_eq!(
        r.prune.as_ref().unwrap().removed,
        [
            "OcwExport/old/only-from-unused.png",
            "OcwExport/old/stale.png",
            "OcwExport/old/unused.css"
        ]
    );
    assert!(out.contains_key("OcwExport/kept/used.png"));

    // No reference to the site or a localized prefix is left, except the failed image.
    let pages = out
        .keys()
        .filter(|p| p.ends_with(".html") || p.ends_with(".css"));
    let mut seen_pages = 0;
    for p in pages {
        seen_pages += 1;
        let text = String::from_utf8_lossy(&out[p]).replace(&fx.missing_url, "");
        for bad in [
            "ocw.example.edu",
            media.base.as_str(),
            archive.base.as_str(),
            "youtube.com",
            "giving.example.edu",
        ] {
            assert!(!text.contains(bad), "{p} still references {bad}:\n{text}");
        }
    }
    assert!(seen_pages > 300, "{seen_pages} documents");

    // Every local link is relative and resolves; the missing page is reported with its page.
    let v = r.verify.as_ref().unwrap();
    assert!(v.ok);
    assert!(v.root_relative.is_empty(), "{:?}", v.root_relative);
    assert!(v.not_rewritten.is_empty(), "{:?}", v.not_rewritten);
    assert!(v.escaping.is_empty(), "{:?}", v.escaping);
    assert_eq!(v.missing.len(), 1, "{:?}", v.missing);
    assert_eq!(v.missing[0].page, "courses/c5/broken.html");
    assert_eq!(v.missing[0].target.as_deref(), Some("courses/gone.html"));
    assert_eq!(v.not_localized.len(), 1);
    assert_eq!(r.summary.dangling, 1);
    // The same result from the stand-alone check of the published copy.
    let standalone = verify_dir(&fx.dir.join("dist")).unwrap();
    assert_eq!(standalone.missing.len(), 1);
    assert!(standalone.root_relative.is_empty() && standalone.escaping.is_empty());
    assert!(!standalone.ok);

    // Spot checks of the rewritten pages.
    let page = |p: &str| String::from_utf8_lossy(&out[p]).into_owned();
    let home = page("index.html");
    assert!(
        home.contains(r#"<a href="donate.html">Give now</a>"#),
        "{home}"
    );
    assert!(home.contains(r#"href="courses/c1/index.html""#), "{home}");
    assert!(home.contains(r#"href="css/main.css""#), "{home}");
    let l0 = page("courses/c2/lec0.html");
    assert!(
        l0.contains(r#"<video controls preload="metadata" src="../../OcwExport/youtube/vid2.mp4" width="560" height="315" title="Lecture &quot;2&quot;"></video>"#),
        "{l0}"
    );
    assert!(l0.contains(r#"href="index.html">course"#), "{l0}");
    assert!(
        l0.contains(r#"href="../c3/index.html">next course"#),
        "{l0}"
    );
    assert!(l0.contains(r#"href="lec1.html#top""#), "{l0}");
    assert!(
        l0.contains(r#"srcset="../../images/c2.png 1x, ../../OcwExport/media/img/hi/c2.png 2x""#),
        "{l0}"
    );
    let l2 = page("courses/c2/lec2.html");
    assert!(
        l2.contains(r#"style="background: url(&quot;../../OcwExport/media/img/tex2.png&quot;)""#),
        "{l2}"
    );
    assert!(l2.contains(r#"url("../../images/logo.png")"#), "{l2}");
    let l4 = page("courses/c2/lec4.html");
    assert!(
        l4.contains(r#"codebase="../../OcwExport/media/applets/" archive="sim.jar""#),
        "{l4}"
    );
    let css = page("css/main.css");
    assert!(
        css.starts_with("@import url(\"print.css\");\n@import \"fonts.css\";"),
        "{css}"
    );
    assert!(css.contains("url(../OcwExport/media/img/bg.png)"), "{css}");
    assert!(css.contains("url('../images/logo.png')"), "{css}");
    assert_eq!(
        page("OcwExport/media/css/theme.css"),
        ".t{background:url(../img/theme-bg.png)}\n"
    );
    assert!(page("old.html").contains("content=\"0; url=index.html\""));
    // The windows-1252 page stays windows-1252, its links rewritten.
    let latin = &out["courses/c3/latin.html"];
    assert!(std::str::from_utf8(latin).is_err());
    assert!(latin.windows(12).any(|w| w == b"Caf\xe9 cr\xe8me \x96"));
    assert!(latin.windows(18).any(|w| w == b"href=\"index.html\">"));

    // The page the rewriter cannot read is kept byte for byte, and reported.
    let w = r.rewrite.as_ref().unwrap();
    assert_eq!(w.unparsed.len(), 1, "{:?}", w.unparsed);
    assert_eq!(w.unparsed[0].0, "courses/c7/utf16.html");
    assert!(w.unparsed[0].1.contains("UTF-16"), "{}", w.unparsed[0].1);
    assert_eq!(
        out["courses/c7/utf16.html"],
        std::fs::read(fx.site.join("courses/c7/utf16.html")).unwrap()
    );
    assert_eq!(r.summary.unparsed, 1);
    assert_eq!(v.unreadable.len(), 1);

    // The published folder equals the snapshot.
    assert_published(&fx);
    let first = r.build.clone().unwrap();
    assert_eq!(r.changes.as_ref().unwrap().new.len(), out.len());

    // ---- no change: nothing fetched or copied, no change reported -------------------
    media.reset_hits();
    archive.reset_hits();
    let r2 = run(&fx).await;
    assert_ne!(r2.build, Some(first.clone()));
    assert_eq!(r2.previous, Some(first.clone()));
    assert_eq!(r2.summary.fetched, 0, "{:#?}", r2.localize);
    assert_eq!(r2.summary.copied, 0, "{:#?}", r2.copy);
    let c = r2.changes.as_ref().unwrap();
    assert!(c.is_empty(), "{}", c.to_text());
    assert_eq!(c.unchanged.len(), out.len());
    // Only the URL that failed is asked again.
    let asked: Vec<String> = media.all_hits().into_keys().collect();
    assert_eq!(asked, vec!["/download/img/missing.png".to_owned()]);
    assert!(archive.all_hits().is_empty());
    let p = r2.publish.as_ref().unwrap();
    assert!(
        p.ok && p.passes.iter().all(|s| s.copied == 0 && s.deleted == 0),
        "{p:?}"
    );
    assert_published(&fx);

    // ---- three pages changed, one removed ---------------------------------------------
    for i in 1..=3 {
        let f = fx.site.join(format!("courses/c{i}/lec8.html"));
        let mut t = std::fs::read_to_string(&f).unwrap();
        t.push_str("<!-- updated -->\n");
        std::fs::write(&f, t).unwrap();
    }
    std::fs::remove_file(fx.site.join("old.html")).unwrap();
    let r3 = run(&fx).await;
    let c = r3.changes.as_ref().unwrap();
    assert_eq!(c.previous, r2.build);
    assert!(c.new.is_empty(), "{:?}", c.new);
    assert_eq!(
        c.changed,
        (1..=3)
            .map(|i| format!("courses/c{i}/lec8.html"))
            .collect::<Vec<_>>()
    );
    assert_eq!(c.removed, vec!["old.html".to_owned()]);
    assert_eq!(r3.summary.copied, 3);
    assert_eq!(r3.summary.fetched, 0);
    assert_published(&fx);
    assert!(!fx.dir.join("dist/old.html").exists());
    // keep = 2: the first build is gone.
    assert!(!fx.dir.join("work").join(&first).exists());
    assert_eq!(
        std::fs::read_dir(fx.dir.join("work"))
            .unwrap()
            .filter(|d| d
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("20"))
            .count(),
        2
    );
    // index, donate, latin, broken, utf16 and the course pages.
    assert_eq!(r3.summary.pages, 5 + COURSES * 10);
}
