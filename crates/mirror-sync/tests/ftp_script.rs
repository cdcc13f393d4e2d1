//! The same-minute rule against the scripted FTP server, whose every command is counted:
//! which files of a `LIST`-only server are asked for their exact time (`MDTM`), and what is
//! done with the answer. Runs everywhere (no daemon needed); `ftp_daemons.rs` shows the
//! same against vsftpd.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mirror_config::Package;
use mirror_sync::{NoEvents, PackageReport, PackageStatus, RunOptions};
use mirror_testkit::ftp_script::{Script, ScriptServer, ls_dir, ls_file};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `Nov 21 07:55`: an `ls -l` date of this year, in UTC.
fn ls_date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap()
        .strftime("%b %e %H:%M")
        .to_string()
}

fn package(port: u16, local: &Path) -> Package {
    let text = format!(
        "package=script\n\
         \tsite=ftp://127.0.0.1:{port}/\n\
         \tremote_dir=/\n\
         \tlocal_dir={}\n\
         \tuse_timelocal=false\n\
         \tdisconnect=true\n",
        local.display()
    );
    let loaded = mirror_config::parse_str(&text, "script.packages").unwrap();
    let env = mirror_config::Env::current();
    loaded.records[0].to_package(&env).unwrap().0
}

async fn run(pkg: &Package) -> PackageReport {
    let r = mirror_sync::run_package(pkg, &RunOptions::default(), &NoEvents).await;
    assert_eq!(r.status, PackageStatus::Ok, "{:#?}", r.lines);
    r
}

/// The `MDTM` commands the server received after the first `since`.
fn mdtms(server: &ScriptServer, since: usize) -> Vec<String> {
    let all = server.counters.commands.lock().unwrap();
    all.iter()
        .filter(|c| c.starts_with("MDTM"))
        .skip(since)
        .cloned()
        .collect()
}

fn put(path: &Path, data: &[u8], t: i64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
    let when = UNIX_EPOCH + Duration::from_secs(t as u64);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(when)
        .unwrap();
}

fn mtime(p: &Path) -> i64 {
    fs::metadata(p).unwrap().mtime()
}

/// Old files whose copies were made after their minute ended are never asked about; a
/// file of the current minute is asked before it is fetched (and stamped with the answer),
/// then asked again while its minute may still change, and fetched when it did.
#[tokio::test]
async fn only_files_of_a_running_minute_are_asked_for_their_exact_time() {
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("copy");
    let old = (now() - 7_200) / 60 * 60 + 17;
    let minute = now() / 60 * 60;
    let fresh = minute + 10;
    let mut files = BTreeMap::new();
    let mut root = vec![ls_dir("d", &ls_date(old))];
    for i in 0..10 {
        let name = format!("old{i}.txt");
        files.insert(format!("/d/{name}"), (b"old!".to_vec(), old));
        // A copy made earlier, stamped with the listed minute, as mirror.pl did.
        put(&local.join("d").join(&name), b"old!", old / 60 * 60);
    }
    files.insert("/new.txt".into(), (b"version 1".to_vec(), fresh));
    root.push(ls_file("new.txt", 9, &ls_date(fresh)));
    let mut dirs = BTreeMap::new();
    dirs.insert("/".to_owned(), root);
    dirs.insert(
        "/d".to_owned(),
        (0..10)
            .map(|i| ls_file(&format!("old{i}.txt"), 4, &ls_date(old)))
            .collect(),
    );
    let server = ScriptServer::start(Script {
        mdtm: true,
        dirs,
        files,
        ..Script::default()
    })
    .await;
    let pkg = package(server.port, &local);

    let first = run(&pkg).await;
    assert_eq!(first.counts.files_fetched, 1, "{:#?}", first.lines);
    assert_eq!(mdtms(&server, 0), ["MDTM /new.txt"]);
    assert_eq!(
        mtime(&local.join("new.txt")),
        fresh,
        "stamped with the exact time"
    );

    // Same size, same minute, a few seconds later: only MDTM can tell.
    server.edit(|s| {
        s.files
            .insert("/new.txt".into(), (b"version 2".to_vec(), fresh + 5));
    });
    let second = run(&pkg).await;
    assert_eq!(second.counts.files_fetched, 1, "{:#?}", second.lines);
    assert_eq!(fs::read(local.join("new.txt")).unwrap(), b"version 2");
    assert_eq!(mtime(&local.join("new.txt")), fresh + 5);
    assert_eq!(mdtms(&server, 1), ["MDTM /new.txt"]);

    let third = run(&pkg).await;
    assert_eq!(third.counts.files_fetched, 0, "{:#?}", third.lines);
    assert_eq!(mdtms(&server, 2), ["MDTM /new.txt"]);
    assert_eq!(
        server
            .counters
            .retr
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
}

/// An exact time outside the listed minute means the listing is read in another zone (or
/// the file changed in between): the listing's time stands, and nothing is fetched over and
/// over because of the mismatch.
#[tokio::test]
async fn an_exact_time_outside_the_listed_minute_is_not_used() {
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("copy");
    let minute = now() / 60 * 60;
    let mut files = BTreeMap::new();
    // MDTM answers two hours later than the listing says.
    files.insert("/f.txt".into(), (b"same".to_vec(), minute + 7_200 + 5));
    let mut dirs = BTreeMap::new();
    dirs.insert("/".to_owned(), vec![ls_file("f.txt", 4, &ls_date(minute))]);
    put(&local.join("f.txt"), b"same", minute);
    let server = ScriptServer::start(Script {
        mdtm: true,
        dirs,
        files,
        ..Script::default()
    })
    .await;
    let pkg = package(server.port, &local);
    for round in 0..2 {
        let r = run(&pkg).await;
        assert_eq!(r.counts.files_fetched, 0, "round {round}: {:#?}", r.lines);
        assert_eq!(mtime(&local.join("f.txt")), minute);
    }
    assert_eq!(mdtms(&server, 0).len(), 2, "asked, and the answer not used");
}
