//! The conformance suite against [`LocalRemote`]: the reference backend, with no gaps.

use std::path::Path;
use std::sync::Arc;

use mirror_remote::Remote;
use mirror_remote::local::{LocalOptions, LocalRemote};
use mirror_testkit::{ConformanceTarget, Gaps, check_conformance, run_conformance};

struct Local;

#[async_trait::async_trait]
impl ConformanceTarget for Local {
    fn name(&self) -> String {
        "local".into()
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        Ok(Arc::new(LocalRemote::new(
            dir.to_path_buf(),
            LocalOptions::default(),
        )))
    }
}

#[tokio::test]
async fn local_remote_passes_the_conformance_suite() {
    let report = run_conformance(&Local).await;
    assert!(
        report.skipped.is_empty(),
        "nothing should be skipped for local: {report}"
    );
    assert!(report.passed.len() >= 20, "{report}");
}

/// A local remote that follows every symlink: a real configuration whose listing differs
/// from the fixture's truth, so the suite must notice (this proves the checks bite).
struct FollowAll;

#[async_trait::async_trait]
impl ConformanceTarget for FollowAll {
    fn name(&self) -> String {
        "local, following all symlinks".into()
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        let opts = LocalOptions {
            follow_symlinks: Some(Arc::new(|_: &mirror_remote::RelPath| true)),
        };
        Ok(Arc::new(LocalRemote::new(dir.to_path_buf(), opts)))
    }
}

#[tokio::test]
async fn the_suite_names_the_checks_a_backend_fails() {
    let report = check_conformance(&FollowAll).await;
    let failed: Vec<&str> = report.failed.iter().map(|f| f.0).collect();
    assert!(failed.contains(&"walk.kinds"), "{report}");
    assert!(failed.contains(&"walk.paths"), "{report}");
    assert!(failed.contains(&"stat.symlink"), "{report}");
    assert!(report.to_string().contains("FAILED walk.kinds"), "{report}");
}

/// The same configuration with a `symlinks` gap: the links and everything below them leave
/// the expectations, and the symlink checks are skipped with the reason.
struct FollowAllWithGap;

#[async_trait::async_trait]
impl ConformanceTarget for FollowAllWithGap {
    fn name(&self) -> String {
        "local, following all symlinks, with a gap".into()
    }

    async fn remote_for(&self, dir: &Path) -> Result<Arc<dyn Remote>, String> {
        FollowAll.remote_for(dir).await
    }

    fn gaps(&self) -> Gaps {
        Gaps {
            symlinks: Some("links are followed"),
            ..Gaps::default()
        }
    }
}

#[tokio::test]
async fn gaps_skip_their_checks_with_the_reason() {
    let report = run_conformance(&FollowAllWithGap).await;
    let skipped: Vec<(&str, &str)> = report
        .skipped
        .iter()
        .map(|(n, w)| (*n, w.as_str()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("stat.symlink", "links are followed"),
            ("write.symlink", "links are followed")
        ],
        "{report}"
    );
}
