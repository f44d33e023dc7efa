//! The command line and operations: accounts from the CLI, restarts, migrations, backup,
//! configuration errors, graceful shutdown.

use crate::harness::*;
use serde_json::json;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test]
async fn cli_user_commands_work_with_http_login() {
    let s = Server::start();
    let id = s.add_staff("cli@shop.test", "supervisor");
    assert_eq!(id.len(), 32, "prints the new id");
    let (st, body) = try_login(&s, "cli@shop.test", PASSWORD).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["staff"]["role_id"], 2);
    let token = body["access_token"].as_str().unwrap().to_string();

    // Duplicate email (any case) fails and says why.
    let out = s.cli(&[
        "user",
        "add",
        "--email",
        "CLI@shop.test",
        "--name",
        "x",
        "--role",
        "agent",
        "--password",
        PASSWORD,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    let out = s.cli(&["user", "list"]);
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        list.contains("cli@shop.test") && list.contains("supervisor"),
        "{list}"
    );

    // passwd: new password works, old fails, old sessions are signed out.
    let out = Command::new(BIN)
        .args([
            "user",
            "passwd",
            "cli@shop.test",
            "--password-stdin",
            "--data",
        ])
        .arg(&s.data)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"a-brand-new-pw\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, _) = get(&s, "/api/v1/me", Some(&token)).await;
    assert_eq!(st, 401);
    let (st, _) = try_login(&s, "cli@shop.test", PASSWORD).await;
    assert_eq!(st, 401);
    let (st, _) = try_login(&s, "cli@shop.test", "a-brand-new-pw").await;
    assert_eq!(st, 200);

    // disable, then enable.
    assert!(s.cli(&["user", "disable", &id]).status.success());
    let (st, body) = try_login(&s, "cli@shop.test", "a-brand-new-pw").await;
    assert_error(st, &body, 403);
    assert!(s
        .cli(&["user", "disable", "cli@shop.test", "--enable"])
        .status
        .success());
    let (st, _) = try_login(&s, "cli@shop.test", "a-brand-new-pw").await;
    assert_eq!(st, 200);

    // Bad input to the CLI: clear message, non-zero exit.
    let out = s.cli(&[
        "user",
        "add",
        "--email",
        "x@shop.test",
        "--name",
        "x",
        "--role",
        "agent",
        "--password",
        "short",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
    let out = s.cli(&[
        "user",
        "add",
        "--email",
        "x@shop.test",
        "--name",
        "x",
        "--role",
        "boss",
        "--password",
        PASSWORD,
    ]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn restart_keeps_accounts_and_tokens_and_migrates_once() {
    let mut s = Server::start();
    assert!(s.log().contains("applied schema migration"), "{}", s.log());
    let (_, token) = s.staff("keep@shop.test", "agent").await;
    let (vid, vtoken) = s.visitor(Some("Kept Visitor")).await;

    let status = s.stop();
    assert!(status.success(), "SIGTERM is a clean exit: {status:?}");
    assert!(s.log().contains("database flushed"), "{}", s.log());
    s.restart();
    assert!(
        !s.log().contains("applied schema migration"),
        "migrations run once:\n{}",
        s.log()
    );

    let (st, me) = get(&s, "/api/v1/me", Some(&token)).await;
    assert_eq!(st, 200, "{me}");
    let (st, me) = get(&s, "/api/v1/me", Some(&vtoken)).await;
    assert_eq!(st, 200);
    assert_eq!(me["visitor"]["id"], vid.as_str());
    s.login("keep@shop.test").await;

    let conn = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 1);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused() {
    let mut s = Server::start();
    let db = s.data.join("frontdesk.db");
    s.stop();
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 9999).unwrap();
    drop(conn);
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(db.parent().unwrap())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer than this frontdesk knows"), "{err}");
}

#[tokio::test]
async fn backup_while_writing_is_a_consistent_copy() {
    let s = Server::start_with(Options {
        config: Some("visitor_creations_per_minute = 100000\n".into()),
        ..Default::default()
    });
    let url = s.url("/api/v1/visitors");
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let mut writers = vec![];
    for i in 0..4 {
        let (url, stop, written) = (url.clone(), stop.clone(), written.clone());
        writers.push(tokio::spawn(async move {
            let c = http();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let r = c
                    .post(&url)
                    .json(&json!({"name": format!("w{i}-{n}")}))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status() == 201) {
                    written.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }));
    }
    while written.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("copy.db");
    let before = written.load(Ordering::Relaxed);
    let out = tokio::task::spawn_blocking({
        let (data, file) = (s.data.clone(), file.clone());
        move || cli(&data, &["backup", file.to_str().unwrap()])
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let during = written.load(Ordering::Relaxed);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(
        written.load(Ordering::Relaxed) > during && during >= before,
        "writes went on around the backup"
    );

    let copy = rusqlite::Connection::open(&file).unwrap();
    let ok: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let live = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    let count = |c: &rusqlite::Connection, sql: &str| -> i64 {
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    };
    let copied = count(&copy, "SELECT count(*) FROM visitors");
    assert!(copied > 0, "the copy has the rows written before it");
    assert!(copied <= count(&live, "SELECT count(*) FROM visitors"));
    // Every visitor in the copy has its token: no half-written pair.
    assert_eq!(
        count(&copy, "SELECT count(*) FROM visitors v WHERE NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.subject_id = v.id)"),
        0
    );

    // Taken when idle, the copy equals the live database.
    let file2 = dir.path().join("copy2.db");
    assert!(s.cli(&["backup", file2.to_str().unwrap()]).status.success());
    let copy2 = rusqlite::Connection::open(&file2).unwrap();
    for table in ["visitors", "access_tokens", "staff", "organisations"] {
        let sql = format!("SELECT count(*) FROM {table}");
        assert_eq!(count(&copy2, &sql), count(&live, &sql), "{table}");
    }
    // An existing file is never overwritten.
    let out = s.cli(&["backup", file2.to_str().unwrap()]);
    assert!(!out.status.success());
}

#[test]
fn config_errors_name_the_key_and_stop_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("lisen = \"127.0.0.1:1\"\n", "lisen"),
        ("reconnect_grace = \"soon\"\n", "reconnect_grace"),
        ("listen = \"somewhere\"\n", "listen"),
        ("log_level = \"loud\"\n", "log_level"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&path)
            .arg("--data")
            .arg(dir.path().join("data"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{text}: {err}");
        assert!(
            !dir.path().join("data").exists(),
            "nothing touched before the config is valid"
        );
    }
}

#[test]
fn version_and_help() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "user", "backup"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[tokio::test]
async fn healthcheck_command_reports_the_server() {
    let s = Server::start();
    let out = Command::new(BIN)
        .args(["healthcheck", "--listen", &s.addr.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(s);
    let out = Command::new(BIN)
        .args(["healthcheck", "--listen", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn commands_racing_on_a_fresh_data_dir_migrate_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let data = data.clone();
            std::thread::spawn(move || {
                let email = format!("racer{i}@shop.test");
                cli(
                    &data,
                    &[
                        "user",
                        "add",
                        "--email",
                        &email,
                        "--name",
                        "r",
                        "--role",
                        "agent",
                        "--password",
                        PASSWORD,
                    ],
                )
            })
        })
        .collect();
    for h in handles {
        let out = h.join().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let db = rusqlite::Connection::open(data.join("frontdesk.db")).unwrap();
    let orgs: i64 = db
        .query_row("SELECT count(*) FROM organisations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(orgs, 1);
}
