//! Property: rewriting is idempotent. Whatever mix of references a page or stylesheet holds
//! (absolute, root-relative, relative, localized, external, odd characters, entities,
//! srcset lists, inline and embedded CSS, `<base>`, players, applets), rewriting the result
//! again changes nothing.

use std::path::Path;

use mirror_snapshot::docs::{Rewriter, TextRules, prepare, visit};
use mirror_snapshot::paths::TreeIndex;
use mirror_snapshot::recipe::Recipe;
use mirror_snapshot::urlmap::UrlMap;
use proptest::prelude::*;

fn recipe(relative: bool) -> Recipe {
    Recipe::parse(
        &format!(
            r#"
work_dir = "w"
site = ["http://ocw.example.edu/", "https://ocw.example.edu/"]
[[localize]]
prefix = "http://media.example.org/download/"
to = "OcwExport/media/"
[[rewrite]]
from = "http://www.archive.org/download/"
to = "/OcwExport/IA/"
[[embed]]
match = 'youtube\.com/embed/([A-Za-z0-9_-]+)'
local = "OcwExport/youtube/$1.mp4"
[[edit]]
pages = '^index\.html$'
from = "https://giving.example.edu/"
to = "donate.html"
[links]
relative = {relative}
"#
        ),
        Path::new("/nonexistent/recipe.toml"),
    )
    .unwrap()
}

fn tree() -> TreeIndex {
    let mut t = TreeIndex::default();
    for f in [
        "index.html",
        "donate.html",
        "a b/c.html",
        "c/index.html",
        "c/l1.html",
        "c/d/e.png",
        "café.html",
        "OcwExport/media/x.png",
        "OcwExport/media/css/t.css",
        "OcwExport/media/applets/sim.jar",
        "OcwExport/IA/v.mp4",
        "OcwExport/youtube/abc.mp4",
    ] {
        t.add_file(f);
    }
    t
}

/// A reference of any kind.
fn reference() -> impl Strategy<Value = String> {
    let path = prop::sample::select(vec![
        "",
        "index.html",
        "c/",
        "c",
        "c/l1.html",
        "c/d/e.png",
        "a%20b/c.html",
        "a b/c.html",
        "caf%C3%A9.html",
        "café.html",
        "missing.html",
        "c/../index.html",
        "./c/l1.html",
        "x&y.html",
        "q\"uote.html",
    ]);
    let suffix = prop::sample::select(vec!["", "#top", "?a=1&b=2", "?x#y"]);
    let form = prop::sample::select(vec![
        "http://ocw.example.edu/",
        "https://ocw.example.edu/",
        "//ocw.example.edu/",
        "/",
        "",
        "../",
        "http://media.example.org/download/",
        "http://www.archive.org/download/",
        "https://ext.example.com/",
    ]);
    let special = prop::sample::select(vec![
        "mailto:a@b.c",
        "#frag",
        "javascript:void(0)",
        "data:image/png;base64,AAAA",
        "  http://ocw.example.edu/c/l1.html  ",
        "http://media.example.org/download/x.png",
        "http://media.example.org/download/gone.png",
        "http://media.example.org/download/css/t.css",
        "http://www.archive.org/download/v.mp4",
        "",
    ]);
    prop_oneof![
        4 => (form, path, suffix).prop_map(|(f, p, s)| format!("{f}{p}{s}")),
        1 => special.prop_map(str::to_owned),
    ]
}

/// An attribute value, quoted one of three ways, `&` and quotes escaped as needed.
fn attr(v: String, style: u8) -> String {
    let amp = v.replace('&', "&amp;");
    match style % 3 {
        0 => format!("\"{}\"", amp.replace('"', "&quot;")),
        1 => format!("'{}'", amp.replace('\'', "&#39;")),
        _ if !amp.is_empty() && !amp.contains([' ', '"', '\'', '>', '=', '<', '`']) => amp,
        _ => format!("\"{}\"", amp.replace('"', "&quot;")),
    }
}

/// A CSS string or url() around `v`.
fn css_url(v: &str, style: u8) -> String {
    match style % 3 {
        0 => format!("url(\"{}\")", v.replace('\\', "\\\\").replace('"', "\\\"")),
        1 => format!("url('{}')", v.replace('\\', "\\\\").replace('\'', "\\'")),
        _ => format!(
            "url({})",
            v.chars()
                .map(|c| if " ()'\"\\".contains(c) {
                    format!("\\{c}")
                } else {
                    c.to_string()
                })
                .collect::<String>()
        ),
    }
}

fn element() -> impl Strategy<Value = String> {
    (0u8..12, reference(), reference(), any::<u8>()).prop_map(|(kind, a, b, q)| match kind {
        0 => format!("<a href={}>link</a>", attr(a, q)),
        1 => format!(
            "<img src={} srcset={}>",
            attr(a.clone(), q),
            attr(format!("{} 1x, {} 2x", a.trim(), b.trim()), q / 3)
        ),
        2 => format!(
            "<div style={}>s</div>",
            attr(format!("background: {}", css_url(&a, q)), q / 3)
        ),
        3 => format!(
            "<style>@import {}; p {{ background: {} }}</style>",
            css_url(&a, q),
            css_url(&b, q / 3)
        ),
        4 => format!(
            "<iframe src=\"https://www.youtube.com/embed/{}\" width=\"5\"></iframe>",
            if q % 2 == 0 { "abc" } else { "zzz" }
        ),
        5 => format!("<base href={}>", attr(a, q)),
        6 => format!(
            "<meta http-equiv=\"refresh\" content={}>",
            attr(format!("0; url={a}"), q)
        ),
        7 => format!(
            "<applet code=\"Sim.class\" codebase={} archive={}></applet>",
            attr(a, q),
            attr(format!("sim.jar,{}", b.trim()), q / 3)
        ),
        8 => format!("<p>text &amp; {a} &lt;b&gt; é</p>"),
        9 => "<a href=\"https://giving.example.edu/\">give</a>".to_owned(),
        10 => format!(
            "<video poster={} src={}><track src={}></video>",
            attr(a.clone(), q),
            attr(b, q / 3),
            attr(a, q / 9)
        ),
        _ => format!(
            "<object data={}><param name=movie value={}></object>",
            attr(a.clone(), q),
            attr(a, q / 3)
        ),
    })
}

fn rewrite_once(recipe: &Recipe, page: &str, input: &[u8]) -> Vec<u8> {
    let map = UrlMap::new(recipe, &[]);
    let t = tree();
    let rules = TextRules::of(recipe);
    let doc = prepare(page, input, &rules);
    let mut v = Rewriter::new(&map, &t, page, recipe.links.relative, &recipe.embed);
    match visit(&doc, &mut v).expect("parsable") {
        Some(out) => out,
        None => doc.bytes.into_owned(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn pages(
        elements in prop::collection::vec(element(), 1..12),
        page in prop::sample::select(vec!["index.html", "c/l1.html", "a b/c.html", "OcwExport/media/p.html"]),
        relative in any::<bool>(),
    ) {
        let recipe = recipe(relative);
        let html = format!("<!DOCTYPE html><html><head></head><body>\n{}\n</body></html>", elements.join("\n"));
        let once = rewrite_once(&recipe, page, html.as_bytes());
        let twice = rewrite_once(&recipe, page, &once);
        prop_assert_eq!(String::from_utf8_lossy(&once), String::from_utf8_lossy(&twice));
    }

    #[test]
    fn stylesheets(
        urls in prop::collection::vec((reference(), any::<u8>(), any::<bool>()), 1..8),
        page in prop::sample::select(vec!["s.css", "c/d/s.css", "OcwExport/media/css/t.css"]),
        relative in any::<bool>(),
    ) {
        let recipe = recipe(relative);
        let css: String = urls
            .iter()
            .map(|(u, q, import)| if *import {
                format!("@import {};\n", css_url(u, *q))
            } else {
                format!("a {{ b: {} }} /* {u} */\n", css_url(u, *q))
            })
            .collect();
        let once = rewrite_once(&recipe, page, css.as_bytes());
        let twice = rewrite_once(&recipe, page, &once);
        prop_assert_eq!(String::from_utf8_lossy(&once), String::from_utf8_lossy(&twice));
    }
}
