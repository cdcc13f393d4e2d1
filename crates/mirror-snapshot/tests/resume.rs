//! A run killed with SIGKILL during localize, then run again, ends with the same snapshot
//! as a run that was never interrupted, and fetches nothing the killed run had finished.
//!
//! The killed run is this test binary started again as a child process (the
//! `child_process_entry` test does the work when `SNAPSHOT_CHILD_RECIPE` is set), fetching
//! from servers that live in the parent.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Log, Server, build_fixture, files};
use mirror_snapshot::build::{Entry, Journal};
use mirror_snapshot::{Command, Options, Recipe, execute};

/// The child's job: run the recipe named in the environment. Does nothing in a normal
/// test run.
#[test]
fn child_process_entry() {
    let Ok(recipe) = std::env::var("SNAPSHOT_CHILD_RECIPE") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let recipe = Recipe::load(Path::new(&recipe)).unwrap();
        let _ = execute(&recipe, Command::Run, &Options::default(), &Log::default()).await;
    });
}

/// The journal of the one build under `work`, if it exists yet.
fn journal(work: &Path) -> Vec<Entry> {
    let Ok(rd) = std::fs::read_dir(work) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with("20"))
        .flat_map(|d| Journal::read(&d.path().join(".mirror-snapshot/journal")))
        .collect()
}

fn fetched(entries: &[Entry]) -> BTreeSet<String> {
    entries
        .iter()
        .filter_map(|e| match e {
            Entry::Fetched { url, .. } => Some(url.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_localize_then_rerun() {
    let media = Server::start().await;
    let archive = Server::start().await;

    // The reference: an uninterrupted run.
    let a = tempfile::tempdir().unwrap();
    let fa = build_fixture(a.path(), &media, &archive);
    let ra = execute(
        &Recipe::load(&fa.recipe).unwrap(),
        Command::Run,
        &Options::default(),
        &Log::default(),
    )
    .await
    .unwrap();
    assert_eq!(ra.summary.failed, 1);

    // The same site, a second work folder; slow servers so the kill lands mid-localize.
    let b = tempfile::tempdir().unwrap();
    let fb = build_fixture(b.path(), &media, &archive);
    media.delay(40);
    archive.delay(40);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SNAPSHOT_CHILD_RECIPE", &fb.recipe)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let work = fb.dir.join("work");
    let started = Instant::now();
    loop {
        if fetched(&journal(&work)).len() >= 40 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the child made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = journal(&work);
    let builds: Vec<String> = std::fs::read_dir(&work)
        .unwrap()
        .flatten()
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("20"))
        .collect();
    assert_eq!(builds.len(), 1);
    let done_before = fetched(&before);
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, Entry::Stage { stage } if stage == "localize"))
    );
    assert!(!work.join("current").exists(), "killed before publishing");

    // Run again: the build is continued, and nothing fetched before is asked for again.
    media.delay(0);
    archive.delay(0);
    media.reset_hits();
    archive.reset_hits();
    let rb = execute(
        &Recipe::load(&fb.recipe).unwrap(),
        Command::Run,
        &Options::default(),
        &Log::default(),
    )
    .await
    .unwrap();
    for url in &done_before {
        let path = url.split_once("127.0.0.1:").unwrap().1;
        let path = &path[path.find('/').unwrap() + 1..];
        let hits = if url.starts_with(&media.base) {
            media.hits(path)
        } else {
            archive.hits(path)
        };
        assert_eq!(hits, 0, "{url} was fetched again");
    }
    let after = fetched(&journal(&work));
    assert!(after.is_superset(&done_before));
    assert_eq!(rb.summary.fetched + done_before.len(), after.len());

    // Same result as the uninterrupted run: the same files with the same bytes, the same
    // failures, the same verify outcome, and the same published copy.
    assert_eq!(
        rb.build.as_ref(),
        Some(&builds[0]),
        "the killed build is continued"
    );
    assert_eq!(
        files(&fa.dir.join("work/current")),
        files(&work.join("current"))
    );
    assert_eq!(files(&fa.dir.join("dist")), files(&fb.dir.join("dist")));
    assert_eq!(ra.summary.pages, rb.summary.pages);
    assert_eq!(ra.summary.files, rb.summary.files);
    assert_eq!(ra.summary.dangling, rb.summary.dangling);
    assert_eq!(
        ra.localize.as_ref().unwrap().failed.len(),
        rb.localize.as_ref().unwrap().failed.len()
    );
    assert_eq!(ra.problems, rb.problems);
}
