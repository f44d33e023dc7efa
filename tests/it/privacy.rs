//! Data protection (issue 16, product.md §8.12): deleting a visitor and everything of theirs
//! (live or not), exporting their data, retention, and the audit log. Chats are made over the
//! socket protocol and files over HTTP; what is left is read from the SQLite file itself.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082";
const BOUNDARY: &str = "----frontdesk-privacy-3a9c";

/// Uploads a small PNG into the chat as `token`; returns the attachment's id.
async fn upload_png(s: &Server, token: &str, chat_id: &str, name: &str) -> String {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&hex::decode(PNG).unwrap());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let r = http()
        .post(s.url(&format!("/api/v1/chats/{chat_id}/attachments")))
        .header("Authorization", format!("Bearer {token}"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    let (status, v) = into_json(r).await;
    assert_eq!(status, 201, "upload: {v}");
    v["attachment"]["id"]
        .as_str()
        .or(v["id"].as_str())
        .unwrap_or_else(|| panic!("no attachment id in {v}"))
        .to_string()
}

/// The files in `<data>/attachments`.
fn files(s: &Server) -> Vec<String> {
    match std::fs::read_dir(s.data.join("attachments")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    }
}

/// Every (table, column) of the database whose value contains one of `needles`: every table
/// and column there is (read from `sqlite_master` and `pragma table_info`, so a table added
/// later is covered too), values compared as bytes. `skip`: tables allowed to keep them.
fn mentions(db: &rusqlite::Connection, needles: &[&str], skip: &[&str]) -> Vec<String> {
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(tables.len() > 15, "{tables:?}");
    let mut found = vec![];
    for t in tables.iter().filter(|t| !skip.contains(&t.as_str())) {
        let cols: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for c in cols {
            for n in needles {
                let sql = format!(
                    "SELECT count(*) FROM \"{t}\" WHERE instr(CAST(\"{c}\" AS BLOB), CAST(?1 AS BLOB)) > 0"
                );
                let k: i64 = db.query_row(&sql, [n], |r| r.get(0)).unwrap();
                if k > 0 {
                    found.push(format!("{t}.{c} has {n} ({k} rows)"));
                }
            }
        }
    }
    found
}

fn count(db: &rusqlite::Connection, sql: &str, arg: &str) -> i64 {
    db.query_row(sql, [arg], |r| r.get(0)).unwrap()
}

/// The chat ids a search as `token` finds.
async fn search(s: &Server, token: &str, q: &str) -> Vec<String> {
    let (status, page) = get(s, &format!("/api/v1/chats?q={q}"), Some(token)).await;
    assert_eq!(status, 200, "{page}");
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn audit(s: &Server, token: &str, query: &str) -> Value {
    let (status, page) = get(s, &format!("/api/v1/audit{query}"), Some(token)).await;
    assert_eq!(status, 200, "{page}");
    page
}

#[tokio::test]
async fn deleting_a_live_visitor_takes_every_row_file_and_word_of_theirs_and_nothing_else() {
    let s = Server::start();
    let admin = admin(&s).await;
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;

    // Another visitor's chat first (their messages get the lower rowids).
    let w = visitor(&s, Transport::Ws, "Walt Keeper").await;
    let cw = claimed(&a, &w, "zebraword from walt").await;
    let w_file = upload_png(&s, &w.token, &cw, "walt.png").await;
    assert_eq!(w.c.emit("visitor_leave_room", Value::Null).await, ok());

    // Vera: chat 1 with a file, a note, a tag and a rating; chat 2 still open, served by a.
    let v = visitor(&s, Transport::SocketIo, "Vera Quillfeather").await;
    let c1 = claimed(&a, &v, "zebraword parcel one").await;
    let v_file = upload_png(&s, &v.token, &c1, "vera-invoice.png").await;
    let note = json!({"visitor": v.id, "content": text("notesecret about vera")});
    assert_eq!(a.c.emit("staff_note", note).await, ok());
    let tag = json!({"visitor": v.id, "tags": ["vip"]});
    assert_eq!(a.c.emit("tag_chat", tag).await, ok());
    let reply = json!({"visitor": v.id, "content": text("Here is your answer")});
    assert_eq!(a.c.emit("staff_msg", reply).await, ok());
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    assert_eq!(v.c.emit("rate_chat", json!({"rating": "good"})).await, ok());
    let c2 = claimed(&a, &v, "second zebraword").await;
    assert_eq!(files(&s).len(), 2);
    // The index has seen every message so far (a search catches it up).
    let mut found = search(&s, &admin, "zebraword").await;
    found.sort();
    let mut want = vec![cw.clone(), c1.clone(), c2.clone()];
    want.sort();
    assert_eq!(found, want);

    // The export: their messages and files, not the staff's notes.
    let r = http()
        .get(s.url(&format!("/api/v1/visitors/{}/export", v.id)))
        .header("Authorization", format!("Bearer {admin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"visitor-{}.json\"", v.id).as_str()
    );
    let doc: Value = r.json().await.unwrap();
    let text_of = doc.to_string();
    assert_eq!(doc["visitor"]["id"], v.id.as_str());
    assert_eq!(doc["visitor"]["name"], "Vera Quillfeather");
    assert_eq!(doc["chats"].as_array().unwrap().len(), 2, "{doc}");
    for wanted in [
        "zebraword parcel one",
        "Here is your answer",
        "second zebraword",
    ] {
        assert!(text_of.contains(wanted), "{wanted} missing from {doc}");
    }
    assert!(!text_of.contains("notesecret"), "a note leaked: {doc}");
    assert!(doc["note"]
        .as_str()
        .unwrap()
        .contains("notes are not included"));
    let first = &doc["chats"][0];
    assert_eq!(first["chat"]["id"], c1.as_str());
    assert_eq!(first["chat"]["tags"], json!(["vip"]));
    assert_eq!(first["chat"]["rating"]["value"], "good");
    assert_eq!(
        first["attachments"][0]["url"],
        format!("/api/v1/attachments/{v_file}")
    );
    assert!(!text_of.contains("Walt"), "another visitor's data: {doc}");
    for (token, want) in [(&a.token, 403), (&v.token, 403)] {
        let (status, body) = get(
            &s,
            &format!("/api/v1/visitors/{}/export", v.id),
            Some(token),
        )
        .await;
        assert_error(status, &body, want);
    }

    // Who may delete: admins only; an unknown visitor is 404.
    let path = format!("/api/v1/visitors/{}", v.id);
    let (status, body) = delete(&s, &path, Some(&a.token)).await;
    assert_error(status, &body, 403);
    let (status, body) = delete(&s, &path, None).await;
    assert_error(status, &body, 401);
    let (status, body) = delete(
        &s,
        "/api/v1/visitors/0123456789abcdef0123456789abcdef",
        Some(&admin),
    )
    .await;
    assert_error(status, &body, 404);
    let (status, body) = delete(&s, "/api/v1/visitors/nope", Some(&admin)).await;
    assert_error(status, &body, 404);

    let (status, body) = delete(&s, &path, Some(&admin)).await;
    assert_eq!(status, 204, "{body}");
    // Live: their socket is closed and the agent serving them hears the chat end.
    assert!(
        v.c.closed().await,
        "the deleted visitor's socket stays open"
    );
    let left =
        a.c.next_where("visitor_leave_queue", |d| d["user"]["id"] == v.id.as_str())
            .await;
    assert_eq!(left["user"]["id"], v.id.as_str(), "{left}");
    // Nothing more is written for them: the agent's reply to the gone room is refused.
    let late = json!({"visitor": v.id, "content": text("are you there")});
    assert_ne!(a.c.emit("staff_msg", late).await, ok());
    // Their token is gone with them.
    let (status, _) = get(&s, "/api/v1/chats", Some(&v.token)).await;
    assert_eq!(status, 401);
    let (status, body) = delete(&s, &path, Some(&admin)).await;
    assert_error(status, &body, 404);

    // No row anywhere mentions them, their chats, their file or their name (the audit log
    // keeps the id of the deletion it records, and nothing else of theirs).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let db = db(&s);
    let needles = [
        v.id.as_str(),
        c1.as_str(),
        c2.as_str(),
        v_file.as_str(),
        "Quillfeather",
        "vera-invoice",
    ];
    assert_eq!(
        mentions(&db, &needles, &["audit_log"]),
        Vec::<String>::new()
    );
    let kept: Vec<(String, String)> = db
        .prepare("SELECT action, detail FROM audit_log WHERE target_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([&v.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let actions: Vec<&str> = kept.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(actions, ["visitor.exported", "visitor.deleted"]);
    assert!(
        kept.iter().all(|k| !k.1.contains("Quillfeather")),
        "{kept:?}"
    );
    // Their file is gone; Walt's stays, with his chat, messages and attachment row.
    let left = files(&s);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM chats WHERE visitor_id = ?1",
            &w.id
        ),
        1
    );
    assert!(count(&db, "SELECT count(*) FROM messages WHERE chat_id = ?1", &cw) >= 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM attachments WHERE id = ?1",
            &w_file
        ),
        1
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM visitors WHERE id = ?1", &w.id),
        1
    );

    // Their words are gone from search; Walt's are found, and so is a new message that takes
    // a rowid one of theirs had (the indexer's mark came back with the deletion).
    assert_eq!(search(&s, &admin, "zebraword").await, vec![cw.clone()]);
    assert!(search(&s, &admin, "parcel").await.is_empty());
    let x = visitor(&s, Transport::Ws, "Xavi").await;
    let cx = claimed(&a, &x, "quokkaword after the deletion").await;
    assert_eq!(search(&s, &admin, "quokkaword").await, vec![cx]);

    // The deletion and the export are in the audit log, newest first.
    let page = audit(&s, &admin, "").await;
    let actions: Vec<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let del = actions
        .iter()
        .position(|a| *a == "visitor.deleted")
        .unwrap();
    let exp = actions
        .iter()
        .position(|a| *a == "visitor.exported")
        .unwrap();
    assert!(del < exp, "{actions:?}");
    assert_eq!(page["results"][del]["target_id"], v.id.as_str());
    assert_eq!(page["results"][del]["detail"]["chats"], 2);
}

#[tokio::test]
async fn the_audit_log_records_admin_actions_masks_secrets_and_is_for_admins_only() {
    let s = Server::start();
    let admin = admin(&s).await;
    let (agent_id, agent) = s.staff("agent@shop.test", "agent").await;
    let (_, sup) = s.staff("sup@shop.test", "supervisor").await;

    set_settings(
        &s,
        &admin,
        json!({"routing": "least_busy", "smtp_url": "smtp://mailer:hunter2pass@127.0.0.1:2525?tls=none"}),
    )
    .await;
    // The same values again change nothing, and nothing is recorded.
    set_settings(&s, &admin, json!({"routing": "least_busy"})).await;
    set_max_chats(&s, &admin, &agent_id, 5).await;
    let (status, body) = patch(
        &s,
        &format!("/api/v1/staff/{agent_id}"),
        json!({"password": "a-new-long-password-1"}),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, made) = post(
        &s,
        "/api/v1/canned-replies",
        json!({"shortcut": "hello", "text": "Hello there!"}),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 201, "{made}");

    let page = audit(&s, &admin, "?limit=200").await;
    let all = page["results"].as_array().unwrap();
    assert!(
        !page.to_string().contains("hunter2pass"),
        "a secret in the audit log: {page}"
    );
    let find = |action: &str| -> Value {
        all.iter()
            .find(|e| e["action"] == action)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} in {page}"))
    };
    let n = all
        .iter()
        .filter(|e| e["action"] == "settings.changed")
        .count();
    assert_eq!(n, 1, "an unchanged PATCH was recorded: {page}");
    let settings = find("settings.changed");
    assert_eq!(settings["actor_name"], "admin@shop.test");
    assert!(settings["actor_id"].is_string());
    assert_eq!(settings["detail"]["changes"]["smtp_url"], "(changed)");
    assert_eq!(
        settings["detail"]["changes"]["routing"],
        json!({"from": "manual", "to": "least_busy"})
    );
    let changed = find("staff.changed");
    assert_eq!(changed["target_id"], agent_id.as_str());
    assert_eq!(
        changed["detail"]["changes"]["max_chats"],
        json!({"from": 3, "to": 5})
    );
    assert_eq!(find("staff.password_reset")["target_id"], agent_id.as_str());
    assert_eq!(find("canned.created")["detail"]["shortcut"], "hello");
    // Accounts made with the CLI are there too, by "cli".
    let cli = find("staff.created");
    assert_eq!(cli["actor_name"], "cli");
    assert!(cli["actor_id"].is_null());

    // Newest first, keyset pages by id.
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let first = audit(&s, &admin, "?limit=2").await;
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    let next = first["next"].as_i64().expect("a next page");
    let second = audit(&s, &admin, &format!("?limit=2&before={next}")).await;
    assert_eq!(second["results"][0]["id"].as_i64(), Some(ids[2]));
    let last = audit(&s, &admin, &format!("?before={}", ids[ids.len() - 1])).await;
    assert_eq!(last["results"], json!([]));
    assert!(last["next"].is_null());
    for bad in ["?limit=0", "?limit=201", "?before=x", "?colour=red"] {
        let (status, body) = get(&s, &format!("/api/v1/audit{bad}"), Some(&admin)).await;
        assert_error(status, &body, 400);
    }

    // Admins only.
    // (The agent's tokens went with the password reset: a fresh agent.)
    drop(agent);
    let (_, agent) = s.staff("agent2@shop.test", "agent").await;
    let (_, visitor_token) = s.visitor(None).await;
    for token in [&agent, &sup, &visitor_token] {
        let (status, body) = get(&s, "/api/v1/audit", Some(token)).await;
        assert_error(status, &body, 403);
    }
    let (status, body) = get(&s, "/api/v1/audit", None).await;
    assert_error(status, &body, 401);
}

#[tokio::test]
async fn retention_deletes_old_ended_chats_with_their_files_and_words_and_keeps_the_rest() {
    let mut s = Server::start();
    let admin = admin(&s).await;
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    // Old: ended, with a file; its visitor has no other chat.
    let old = visitor(&s, Transport::Ws, "Olga Oldtimer").await;
    let c_old = claimed(&a, &old, "retentionword from long ago").await;
    upload_png(&s, &old.token, &c_old, "old.png").await;
    assert_eq!(old.c.emit("visitor_leave_room", Value::Null).await, ok());
    // Recent: ended today. Open: waiting in the queue.
    let recent = visitor(&s, Transport::SocketIo, "Rita Recent").await;
    let c_recent = claimed(&a, &recent, "retentionword from today").await;
    assert_eq!(recent.c.emit("visitor_leave_room", Value::Null).await, ok());
    let open = visitor(&s, Transport::Ws, "Otto Open").await;
    assert_eq!(
        open.c
            .emit("visitor_msg", text("retentionword still open"))
            .await,
        ok()
    );
    let c_open = open.c.next("queue_position").await["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(search(&s, &admin, "retentionword").await.len(), 3);

    // The setting: a whole number of days ≥ 1, or null.
    for bad in [json!(0), json!(-1), json!(1.5), json!("7")] {
        let (status, body) = patch(
            &s,
            "/api/v1/settings",
            json!({ "retention_days": bad }),
            Some(&admin),
        )
        .await;
        assert_error(status, &body, 400);
        assert!(body.to_string().contains("retention_days"), "{body}");
    }
    let got = set_settings(&s, &admin, json!({"retention_days": null})).await;
    assert_eq!(got["retention_days"], Value::Null);
    let got = set_settings(&s, &admin, json!({"retention_days": 1})).await;
    assert_eq!(got["retention_days"], 1);
    drop((old, recent, open, a));

    // Two days pass for the old chat (and its visitor, whose token has run out).
    s.stop();
    let two_days_ago = now_ms() - 2 * 86_400_000;
    let old_rowids: Vec<i64>;
    let old_visitor: String;
    {
        let db = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
        old_visitor = db
            .query_row(
                "SELECT visitor_id FROM chats WHERE id = ?1",
                [&c_old],
                |r| r.get(0),
            )
            .unwrap();
        db.execute(
            "UPDATE chats SET ended_at = ?2, created_at = ?2 WHERE id = ?1",
            rusqlite::params![c_old, two_days_ago],
        )
        .unwrap();
        db.execute(
            "UPDATE visitors SET created_at = ?2 WHERE id = ?1",
            rusqlite::params![old_visitor, two_days_ago],
        )
        .unwrap();
        db.execute(
            "UPDATE access_tokens SET expires_at = ?2 WHERE subject_id = ?1",
            rusqlite::params![old_visitor, two_days_ago],
        )
        .unwrap();
        old_rowids = db
            .prepare("SELECT rowid FROM messages WHERE chat_id = ?1")
            .unwrap()
            .query_map([&c_old], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!old_rowids.is_empty());
    }
    assert_eq!(files(&s).len(), 1);
    s.restart();

    // Shortly after the start, the old chat goes, with its file and its words.
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let gone = count(&db(&s), "SELECT count(*) FROM chats WHERE id = ?1", &c_old) == 0;
        if gone {
            break;
        }
        assert!(
            Instant::now() < end,
            "the old chat is still there:\n{}",
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let db = db(&s);
    assert_eq!(
        mentions(
            &db,
            &[c_old.as_str(), old_visitor.as_str(), "Oldtimer"],
            &["audit_log"]
        ),
        Vec::<String>::new()
    );
    assert!(files(&s).is_empty(), "{:?}", files(&s));
    let hits: i64 = db
        .query_row(
            "SELECT count(*) FROM message_search WHERE message_search MATCH 'long'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hits, 0, "the old chat's words are still indexed");
    let mut left = search(&s, &admin, "retentionword").await;
    left.sort();
    let mut want = vec![c_recent.clone(), c_open.clone()];
    want.sort();
    assert_eq!(left, want);
    for c in [&c_recent, &c_open] {
        assert_eq!(count(&db, "SELECT count(*) FROM chats WHERE id = ?1", c), 1);
    }
    let run = audit(&s, &admin, "").await["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "retention.run")
        .cloned()
        .expect("a retention run in the audit log");
    assert_eq!(run["actor_name"], "system");
    assert_eq!(run["detail"]["chats"], 1);
    assert_eq!(run["detail"]["visitors"], 1);
}
