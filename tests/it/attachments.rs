//! Issue 14, attachments (prompts/issue14-spec.md "Attachments"): files go up over real HTTP
//! (multipart built by hand, so the bytes on the wire are exactly these), reach the room as
//! type 2 messages on both transports, come back down with safe headers to those who may see
//! the chat, and every refused or unfinished upload leaves no file in `<data>/attachments`.

use crate::conv::db;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PNG: &str = "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const BOUNDARY: &str = "----frontdesk-test-7d1f";

fn png() -> Vec<u8> {
    hex::decode(PNG).unwrap()
}

/// A zip with one stored entry: a zip, not an office document.
fn plain_zip() -> Vec<u8> {
    let mut z = vec![0x50, 0x4B, 3, 4, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    z.extend_from_slice(&2u32.to_le_bytes());
    z.extend_from_slice(&2u32.to_le_bytes());
    z.extend_from_slice(&5u16.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(b"a.txthi");
    z.extend_from_slice(&[
        0x50, 0x4B, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    z
}

/// A `multipart/form-data` body with one `file` field.
fn form(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn upload(s: &Server, token: &str, chat_id: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    let r = http()
        .post(s.url(&format!("/api/v1/chats/{chat_id}/attachments")))
        .header("Authorization", format!("Bearer {token}"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form(name, bytes))
        .send()
        .await
        .expect("upload");
    into_json(r).await
}

async fn download(s: &Server, token: &str, url: &str) -> reqwest::Response {
    http()
        .get(s.url(url))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("download")
}

async fn delete(s: &Server, token: &str, path: &str) -> (u16, Value) {
    let r = http()
        .delete(s.url(path))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("delete");
    into_json(r).await
}

fn dir(s: &Server) -> PathBuf {
    s.data.join("attachments")
}

/// The files in `<data>/attachments` (none if the folder is not there yet).
fn files(s: &Server) -> Vec<String> {
    match std::fs::read_dir(dir(s)) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => vec![],
    }
}

/// Waits (bounded) until `<data>/attachments` holds exactly `n` files.
async fn wait_files(s: &Server, n: usize, what: &str) {
    let end = Instant::now() + Duration::from_secs(10);
    while files(s).len() != n {
        assert!(
            Instant::now() < end,
            "{what}: files {:?}, want {n}",
            files(s)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Attachment rows of a chat, read from the database file (WAL readers see the commits).
fn rows(s: &Server, chat_id: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(
        s.data.join("frontdesk.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open db");
    c.query_row(
        "SELECT count(*) FROM attachments WHERE chat_id = ?1",
        [chat_id],
        |r| r.get(0),
    )
    .expect("count")
}

fn options(max: usize) -> Options {
    Options {
        config: Some(format!("max_attachment_bytes = {max}\n")),
        ..Default::default()
    }
}

/// A visitor with a chat that `agent` serves; returns the chat id.
async fn served_chat(v: &Party, agent: &Party) -> String {
    assert_eq!(v.c.emit("visitor_msg", text("hello")).await, ok());
    let chat_id = v.c.next("queue_position").await["chat_id"]
        .as_str()
        .expect("chat_id")
        .to_string();
    assert_eq!(
        agent.c.emit("staff_join", json!({"visitor": v.id})).await,
        ok()
    );
    v.c.next("staff_join_room").await;
    chat_id
}

fn assert_attachment_message(msg: &Value, att: &Value, sender: Option<&str>) {
    assert_eq!(msg["type_id"], 2, "{msg}");
    assert_eq!(msg["content"]["attachment"], *att, "{msg}");
    match sender {
        Some(id) => assert_eq!(msg["sender"], id, "{msg}"),
        None => assert!(msg["sender"].is_null(), "{msg}"),
    }
}

#[tokio::test]
async fn files_reach_the_room_on_both_transports_and_come_back_to_those_who_may_see_them() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start();
        let agent = staff(&s, t, "a@shop.test", "agent").await;
        let (other_agent_id, other_agent) = s.staff("b@shop.test", "agent").await;
        let (_, admin) = s.staff("boss@shop.test", "admin").await;
        let v = visitor(&s, t, "Vic").await;
        let (_, stranger) = s.visitor(Some("Eve")).await;
        let chat_id = served_chat(&v, &agent).await;

        // The visitor sends a PNG: the agent hears it as a type 2 visitor_send.
        let (status, up) = upload(&s, &v.token, &chat_id, "../photo.png", &png()).await;
        assert_eq!(status, 201, "{t:?}: {up}");
        assert_eq!(up["chat_id"], chat_id.as_str());
        let att = up["attachment"].clone();
        assert_eq!(att["name"], "photo.png", "no path in the shown name: {att}");
        assert_eq!(att["mime"], "image/png");
        assert_eq!(att["size"], png().len());
        let id = att["id"].as_str().expect("id").to_string();
        assert_eq!(att["url"], format!("/api/v1/attachments/{id}"));
        let got = agent.c.next("visitor_send").await;
        assert_eq!(got["visitor"]["id"], v.id.as_str(), "{got}");
        assert_attachment_message(&got["content"], &att, None);
        v.c.none("visitor_send").await;

        // The agent sends a PDF: the visitor hears a type 2 staff_send.
        let (status, up) = upload(&s, &agent.token, &chat_id, "Offer «2026».pdf", PDF).await;
        assert_eq!(status, 201, "{t:?}: {up}");
        let pdf = up["attachment"].clone();
        assert_eq!(pdf["mime"], "application/pdf");
        let got = v.c.next("staff_send").await;
        assert_eq!(got["staff"]["id"], agent.id.as_str(), "{got}");
        assert_attachment_message(&got["content"], &pdf, Some(&agent.id));
        agent.c.none("staff_send").await;
        // Both are in the history, in order.
        let (status, h) = get(
            &s,
            &format!("/api/v1/chats/{chat_id}/messages"),
            Some(&v.token),
        )
        .await;
        assert_eq!(status, 200, "{h}");
        let kinds: Vec<i64> = h["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["type_id"].as_i64())
            .filter(|k| *k == 2)
            .collect();
        assert_eq!(kinds.len(), 2, "{h}");

        // Downloads: the visitor, the serving agent and an admin get the bytes, safely.
        for token in [&v.token, &agent.token, &admin] {
            let r = download(&s, token, &format!("/api/v1/attachments/{id}")).await;
            assert_eq!(r.status(), 200);
            let h = r.headers().clone();
            assert_eq!(h["content-type"], "image/png");
            assert_eq!(
                h["content-disposition"],
                "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png"
            );
            assert_eq!(h["x-content-type-options"], "nosniff");
            assert_eq!(h["content-security-policy"], "sandbox; default-src 'none'");
            assert_eq!(h["cache-control"], "private");
            assert_eq!(r.bytes().await.unwrap().as_ref(), png().as_slice());
        }
        let r = download(&s, &v.token, pdf["url"].as_str().unwrap()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(
            r.headers()["content-disposition"],
            "attachment; filename=\"Offer _2026_.pdf\"; filename*=UTF-8''Offer%20%C2%AB2026%C2%BB.pdf"
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), PDF);

        // Another visitor and an agent who never served it: the same 404 as an unknown id.
        let unknown = download(
            &s,
            &v.token,
            "/api/v1/attachments/0123456789abcdef0123456789abcdef",
        )
        .await;
        assert_eq!(unknown.status(), 404);
        let unknown: Value = unknown.json().await.unwrap();
        for token in [&stranger, &other_agent] {
            let r = download(&s, token, &format!("/api/v1/attachments/{id}")).await;
            assert_eq!(r.status(), 404, "{other_agent_id}");
            assert_eq!(r.json::<Value>().await.unwrap(), unknown);
        }
        let r = http()
            .get(s.url(&format!("/api/v1/attachments/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        // Neither may upload into it: a stranger is told it does not exist.
        let (status, body) = upload(&s, &stranger, &chat_id, "x.png", &png()).await;
        assert_error(status, &body, 404);
        let (status, body) = upload(&s, &other_agent, &chat_id, "x.png", &png()).await;
        assert_error(status, &body, 403);
        assert_eq!(files(&s).len(), 2, "{t:?}: {:?}", files(&s));
        assert_eq!(rows(&s, &chat_id), 2);
    }
}

#[tokio::test]
async fn refused_uploads_leave_no_file() {
    const MAX: usize = 64 * 1024;
    let s = Server::start_with(options(MAX));
    let agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vic").await;
    let chat_id = served_chat(&v, &agent).await;
    // A `.part` left by a process that stopped mid-upload goes at the first upload.
    std::fs::create_dir_all(dir(&s)).unwrap();
    std::fs::write(
        dir(&s).join("0123456789abcdef0123456789abcdef.part"),
        b"half",
    )
    .unwrap();

    let mut elf = b"\x7FELF\x02\x01\x01\x00".to_vec();
    elf.resize(512, 0);
    let html = b"<!doctype html><script>alert(1)</script>".to_vec();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("big.png", [png(), vec![0; MAX]].concat(), 413, "too_large"),
        ("prog", elf, 415, "unsupported_type"),
        ("archive.zip", plain_zip(), 415, "unsupported_type"),
        ("archive.docx", plain_zip(), 415, "unsupported_type"),
        ("cat.png", html.clone(), 415, "unsupported_type"),
        ("page.html", html, 415, "unsupported_type"),
        ("empty.txt", vec![], 400, "bad_request"),
    ];
    for (name, bytes, want, code) in cases {
        let (status, body) = upload(&s, &v.token, &chat_id, name, &bytes).await;
        assert_error(status, &body, want);
        assert_eq!(body["error"]["code"], code, "{name}: {body}");
        assert_eq!(files(&s), Vec::<String>::new(), "{name}");
    }
    // Exactly at the limit is fine; text is text.
    let at_limit = [png(), vec![0; MAX - png().len()]].concat();
    let (status, body) = upload(&s, &v.token, &chat_id, "max.png", &at_limit).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = upload(&s, &v.token, &chat_id, "notes.txt", "héllo <b>".as_bytes()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["attachment"]["mime"], "text/plain");
    let r = download(
        &s,
        &agent.token,
        body["attachment"]["url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(files(&s).len(), 2);
    assert_eq!(rows(&s, &chat_id), 2);

    // Not a form, no file field: 400, nothing stored.
    let r = http()
        .post(s.url(&format!("/api/v1/chats/{chat_id}/attachments")))
        .header("Authorization", format!("Bearer {}", v.token))
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, body) = into_json(r).await;
    assert_error(status, &body, 400);
    assert_eq!(files(&s).len(), 2);
}

/// Raw HTTP over TCP: the request head, then whatever body bytes the test decides to send.
async fn raw_upload(
    s: &Server,
    token: &str,
    chat_id: &str,
    head_extra: &str,
) -> tokio::net::TcpStream {
    let mut tcp = tokio::net::TcpStream::connect(s.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/chats/{chat_id}/attachments HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         {head_extra}\r\n",
        s.addr
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp
}

/// What the server answers on a raw connection, read until `until` shows (or 10 s).
async fn read_answer(tcp: &mut tokio::net::TcpStream, until: &str) -> String {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&answer).contains(until) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn an_upload_cut_off_or_over_the_cap_leaves_no_file_and_is_not_read_to_the_end() {
    const MAX: usize = 256 * 1024;
    let s = Server::start_with(options(MAX));
    let agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vic").await;
    let chat_id = served_chat(&v, &agent).await;

    // Half a body, then the client goes away: the `.part` that was being written goes too.
    let body = form("big.png", &[png(), vec![7; 200 * 1024]].concat());
    let mut tcp = raw_upload(
        &s,
        &v.token,
        &chat_id,
        &format!("Content-Length: {}\r\n", body.len()),
    )
    .await;
    tcp.write_all(&body[..body.len() / 2]).await.unwrap();
    tcp.flush().await.unwrap();
    wait_files(&s, 1, "the upload is being written").await;
    assert!(files(&s)[0].ends_with(".part"), "{:?}", files(&s));
    drop(tcp);
    wait_files(&s, 0, "a cut-off upload").await;
    assert_eq!(rows(&s, &chat_id), 0);

    // Chunked (no length to refuse up front), past the cap, and the client keeps the rest:
    // the server answers 413 without waiting for it, and removes what it wrote.
    let mut tcp = raw_upload(&s, &v.token, &chat_id, "Transfer-Encoding: chunked\r\n").await;
    let over = form("huge.png", &[png(), vec![7; MAX + 1024]].concat());
    let cut = over.len() - 100;
    tcp.write_all(format!("{:x}\r\n", cut).as_bytes())
        .await
        .unwrap();
    tcp.write_all(&over[..cut]).await.unwrap();
    tcp.write_all(b"\r\n").await.unwrap();
    tcp.flush().await.unwrap();
    let answer = read_answer(&mut tcp, "too_large").await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "no early 413: {answer:?}"
    );
    assert!(answer.contains("\"too_large\""), "{answer}");
    wait_files(&s, 0, "an upload over the cap").await;

    // A Content-Length over the cap is refused before a byte of the body is read.
    let mut tcp = raw_upload(&s, &v.token, &chat_id, "Content-Length: 999999999999\r\n").await;
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .expect("an answer without the body")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"));
    assert_eq!(files(&s), Vec::<String>::new());
}

#[tokio::test]
async fn a_closed_chat_takes_no_file_and_an_admin_deletes_it_with_its_files() {
    let s = Server::start();
    let agent = staff(&s, Transport::SocketIo, "a@shop.test", "agent").await;
    let (_, sup) = s.staff("sup@shop.test", "supervisor").await;
    let (_, admin) = s.staff("boss@shop.test", "admin").await;
    let v = visitor(&s, Transport::SocketIo, "Vic").await;
    let chat_id = served_chat(&v, &agent).await;
    for (who, name, bytes) in [
        (&v.token, "a.png", png()),
        (&agent.token, "b.pdf", PDF.to_vec()),
    ] {
        let (status, body) = upload(&s, who, &chat_id, name, &bytes).await;
        assert_eq!(status, 201, "{body}");
    }
    agent.c.next("visitor_send").await;
    assert_eq!(files(&s).len(), 2);
    let chat_path = format!("/api/v1/chats/{chat_id}");
    let (status, body) = delete(&s, &admin, &chat_path).await;
    assert_error(status, &body, 409);
    assert_eq!(files(&s).len(), 2, "an open chat keeps everything");

    // An upload under way when the chat ends: the live state refuses to announce it, so its
    // row and its file go again and the uploader is told the chat is closed.
    let body = form("late.pdf", &[PDF, &[b' '; 64 * 1024][..]].concat());
    let mut tcp = raw_upload(
        &s,
        &v.token,
        &chat_id,
        &format!("Content-Length: {}\r\n", body.len()),
    )
    .await;
    tcp.write_all(&body[..body.len() / 2]).await.unwrap();
    tcp.flush().await.unwrap();
    wait_files(&s, 3, "the late upload is being written").await;
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    agent.c.next("visitor_leave_queue").await;
    tcp.write_all(&body[body.len() / 2..]).await.unwrap();
    let answer = read_answer(&mut tcp, "chat_closed").await;
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    assert_eq!(files(&s).len(), 2, "the refused file went: {:?}", files(&s));
    assert_eq!(rows(&s, &chat_id), 2, "and its row");
    agent.c.none("visitor_send").await;
    for (who, status_want) in [(&v.token, 409), (&agent.token, 409)] {
        let (status, body) = upload(&s, who, &chat_id, "late.png", &png()).await;
        assert_error(status, &body, status_want);
        assert_eq!(body["error"]["code"], "chat_closed", "{body}");
    }
    assert_eq!(files(&s).len(), 2, "no file for a closed chat");
    assert_eq!(rows(&s, &chat_id), 2, "no row for a closed chat");

    for token in [&v.token, &agent.token, &sup] {
        let (status, body) = delete(&s, token, &chat_path).await;
        assert_error(status, &body, 403);
    }
    // The files' names are in the search index (a search catches it up) until the chat goes.
    let (status, found) = get(&s, "/api/v1/chats?q=pdf", Some(&admin)).await;
    assert_eq!(
        (status, found["results"][0]["id"].as_str()),
        (200, Some(chat_id.as_str())),
        "{found}"
    );
    let indexed = || -> i64 {
        db(&s)
            .query_row("SELECT count(*) FROM message_search", [], |r| r.get(0))
            .unwrap()
    };
    assert!(indexed() > 0);
    let (status, body) = delete(&s, &admin, &chat_path).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(files(&s), Vec::<String>::new());
    assert_eq!(rows(&s, &chat_id), 0);
    assert_eq!(indexed(), 0, "the search index still has the chat's words");
    let (status, _) = get(&s, &chat_path, Some(&admin)).await;
    assert_eq!(status, 404);
    let (status, body) = delete(&s, &admin, &chat_path).await;
    assert_error(status, &body, 404);
}
