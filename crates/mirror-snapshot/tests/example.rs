//! The shipped example (`examples/snapshot`) builds, verifies and publishes with no network,
//! and a recipe with mistakes is refused with the file, line and key.

mod common;

use std::path::Path;

use common::{Log, files};
use mirror_snapshot::{Command, Options, Recipe, execute, verify_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_example_runs_offline() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/snapshot/recipe.toml");
    let mut recipe = Recipe::load(&example).unwrap();
    // Build into a scratch folder instead of target/.
    let tmp = tempfile::tempdir().unwrap();
    recipe.work_dir = tmp.path().join("work");
    recipe.publish = Some(tmp.path().join("dist"));

    let r = execute(&recipe, Command::Run, &Options::default(), &Log::default())
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.problems);
    assert_eq!(r.summary.fetched, 0);
    assert_eq!(r.summary.dangling, 0);
    assert_eq!(
        r.prune.as_ref().unwrap().removed,
        ["OcwExport/youtube/unused.mp4"]
    );
    let dist = files(&tmp.path().join("dist"));
    let page = |p: &str| String::from_utf8(dist[p].clone()).unwrap();
    assert!(page("index.html").contains(r#"<a href="donate.html">Support us</a>"#));
    assert!(page("index.html").contains(r#"href="courses/intro/index.html""#));
    let lecture = page("courses/intro/lecture-1.html");
    assert!(
        lecture.contains(
            r#"<video controls preload="metadata" src="../../OcwExport/youtube/abc123.mp4""#
        ),
        "{lecture}"
    );
    assert!(
        lecture.contains(r#"<a href="index.html">Course home</a>"#),
        "{lecture}"
    );
    assert!(page("css/style.css").contains("url(../images/logo.png)"));
    for (p, bytes) in &dist {
        assert!(
            !String::from_utf8_lossy(bytes).contains("ocw.example.edu"),
            "{p}"
        );
    }
    let v = verify_dir(&tmp.path().join("dist")).unwrap();
    assert!(
        v.ok && v.root_relative.is_empty() && v.external.is_empty(),
        "{}",
        v.to_text(20)
    );

    // `verify` and `publish` alone work on the current snapshot.
    let r = execute(
        &recipe,
        Command::Verify,
        &Options::default(),
        &Log::default(),
    )
    .await
    .unwrap();
    assert!(r.ok && r.verify.unwrap().ok);
    let r = execute(
        &recipe,
        Command::Publish,
        &Options::default(),
        &Log::default(),
    )
    .await
    .unwrap();
    assert!(r.ok, "{:?}", r.problems);
    // `update` needs a build in progress; `create` starts one, `update` and `publish` end it.
    let e = execute(
        &recipe,
        Command::Update,
        &Options::default(),
        &Log::default(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("mirror snapshot create"), "{e}");
    for c in [Command::Create, Command::Update, Command::Publish] {
        let r = execute(&recipe, c, &Options::default(), &Log::default())
            .await
            .unwrap();
        assert!(r.ok, "{c:?}: {:?}", r.problems);
    }
    assert_eq!(files(&tmp.path().join("dist")), dist);
}

#[test]
fn recipe_errors_name_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.toml");
    std::fs::write(
        &f,
        "work_dir = \"w\"\n\n[[embed]]\nmatch = 'youtube\\.com/embed/(['\nlocal = \"v/$1.mp4\"\n",
    )
    .unwrap();
    let e = Recipe::load(&f).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{}:4:9: [[embed]] match: bad regex", f.display())),
        "{text}"
    );
    std::fs::write(&f, "work_dir = \"w\"\n[links]\nrelative = \"yes\"\n").unwrap();
    let e = Recipe::load(&f).unwrap_err();
    assert_eq!((e.line, e.key.as_str()), (3, "[links] relative"), "{e}");
}

/// A small site with one broken link, and its recipe.
fn broken_site(dir: &Path) -> Recipe {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("a")).unwrap();
    std::fs::write(site.join("index.html"), "<a href=\"a/\">a</a>\n").unwrap();
    std::fs::write(
        site.join("a/index.html"),
        "<a href=\"/gone.html\">gone</a>\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("recipe.toml"),
        "work_dir = \"work\"\npublish = \"dist\"\nsite = \"http://h.example/\"\n[[copy]]\nfrom = \"site\"\n",
    )
    .unwrap();
    Recipe::load(&dir.join("recipe.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_failure_blocks_publish_until_fixed_or_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = broken_site(tmp.path());
    let log = Log::default();
    let r = execute(&recipe, Command::Run, &Options::default(), &log)
        .await
        .unwrap();
    assert!(!r.ok);
    assert!(
        r.problems[0].starts_with("verify failed"),
        "{:?}",
        r.problems
    );
    let v = r.verify.as_ref().unwrap();
    assert_eq!(v.missing.len(), 1);
    assert_eq!(v.missing[0].page, "a/index.html");
    assert_eq!(v.missing[0].reference, "../gone.html");
    assert!(!tmp.path().join("work/current").exists());
    assert!(!tmp.path().join("dist").exists());
    let failed = r.build.clone().unwrap();

    // `publish --force` publishes that build as it is.
    let force = Options {
        force: true,
        ..Options::default()
    };
    let p = execute(&recipe, Command::Publish, &force, &log)
        .await
        .unwrap();
    assert!(p.ok, "{:?}", p.problems);
    assert_eq!(p.build.as_ref(), Some(&failed));
    assert!(tmp.path().join("dist/a/index.html").exists());

    // The source is fixed: the next run builds anew, passes and publishes.
    std::fs::write(tmp.path().join("site/gone.html"), "back\n").unwrap();
    let r = execute(&recipe, Command::Run, &Options::default(), &log)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.problems);
    assert_ne!(r.build.as_ref(), Some(&failed));
    assert_eq!(r.changes.as_ref().unwrap().new, ["gone.html"]);
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("dist/gone.html")).unwrap(),
        "back\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_keeps_the_deletion_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let mut index = String::new();
    for i in 0..10 {
        std::fs::write(site.join(format!("p{i}.html")), format!("page {i}\n")).unwrap();
        index.push_str(&format!("<a href=\"p{i}.html\">{i}</a>\n"));
    }
    std::fs::write(site.join("index.html"), &index).unwrap();
    let recipe_text = "work_dir = \"work\"\npublish = \"dist\"\n[[copy]]\nfrom = \"site\"\n";
    std::fs::write(tmp.path().join("recipe.toml"), recipe_text).unwrap();
    let recipe = Recipe::load(&tmp.path().join("recipe.toml")).unwrap();
    let log = Log::default();
    assert!(
        execute(&recipe, Command::Run, &Options::default(), &log)
            .await
            .unwrap()
            .ok
    );

    // Half the site goes: more than the default 10% limit, so nothing is deleted.
    for i in 0..5 {
        std::fs::remove_file(site.join(format!("p{i}.html"))).unwrap();
    }
    std::fs::write(site.join("index.html"), "<a href=\"p9.html\">9</a>\n").unwrap();
    let r = execute(&recipe, Command::Run, &Options::default(), &log)
        .await
        .unwrap();
    assert!(!r.ok);
    let p = r.publish.as_ref().unwrap();
    assert!(
        p.passes.last().unwrap().failures[0].starts_with("deletions refused"),
        "{p:?}"
    );
    assert!(tmp.path().join("dist/p0.html").exists());
    // The entry page was still updated (it goes before the deletions).
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("dist/index.html")).unwrap(),
        "<a href=\"p9.html\">9</a>\n"
    );

    // With the limit raised, `publish` finishes the job on the current snapshot.
    std::fs::write(
        tmp.path().join("recipe.toml"),
        format!("{recipe_text}[publish_options]\nmax_delete_files = \"60%\"\n"),
    )
    .unwrap();
    let recipe = Recipe::load(&tmp.path().join("recipe.toml")).unwrap();
    let r = execute(&recipe, Command::Publish, &Options::default(), &log)
        .await
        .unwrap();
    assert!(r.ok, "{:?}", r.problems);
    assert!(!tmp.path().join("dist/p0.html").exists());
    assert_eq!(
        files(&tmp.path().join("dist")),
        files(&tmp.path().join("work/current"))
    );
}

/// `[[copy]] from` a site URL: the example site served by the test kit's HTTP index server
/// gives the same snapshot as the folder itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_a_site_url() {
    use mirror_testkit::http_index::{IndexServer, IndexServerOptions};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/snapshot");
    let server = IndexServer::start(&root.join("site"), IndexServerOptions::default()).await;
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root.join("recipe.toml")).unwrap();
    let log = Log::default();
    let mut outputs = Vec::new();
    for (name, from) in [
        ("folder", root.join("site").display().to_string()),
        ("url", server.url()),
    ] {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let text = text
            .replace("from = \"site\"", &format!("from = \"{from}\""))
            .replace("../../target/snapshot-example/", "");
        std::fs::write(dir.join("recipe.toml"), text).unwrap();
        let recipe = Recipe::load(&dir.join("recipe.toml")).unwrap();
        let r = execute(&recipe, Command::Run, &Options::default(), &log)
            .await
            .unwrap();
        assert!(r.ok, "{name}: {:?} {:?}", r.problems, r.copy);
        outputs.push(files(&dir.join("dist")));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(outputs[1].contains_key("courses/intro/lecture-1.html"));
}
