//! Reports (issue 16): the team's figures over a date range, as JSON and CSV, for supervisors
//! and admins; the chats are made through the socket protocol.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

#[tokio::test]
async fn the_report_counts_answered_missed_rated_and_by_agent_and_hour() {
    let s = Server::start();
    let admin = admin(&s).await;
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let start = now_ms();
    // 1: answered by a, ended, rated good. 2: claimed, never answered, ended. 3: waiting.
    let v1 = visitor(&s, Transport::Ws, "Vera").await;
    claimed(&a, &v1, "Hello").await;
    let reply = json!({"visitor": v1.id, "content": {"content": "Hi!"}});
    assert_eq!(a.c.emit("staff_msg", reply).await, ok());
    assert_eq!(v1.c.emit("visitor_leave_room", Value::Null).await, ok());
    assert_eq!(
        v1.c.emit("rate_chat", json!({"rating": "good"})).await,
        ok()
    );
    let v2 = visitor(&s, Transport::SocketIo, "Walt").await;
    claimed(&a, &v2, "Anyone?").await;
    assert_eq!(v2.c.emit("visitor_leave_room", Value::Null).await, ok());
    let v3 = visitor(&s, Transport::Ws, "Xena").await;
    assert_eq!(v3.c.emit("visitor_msg", text("Still there?")).await, ok());
    // Waiting longer than missed_after_secs=1 makes the third one missed too.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let path = format!("/api/v1/reports?since={start}&missed_after_secs=1");
    let (status, r) = get(&s, &path, Some(&a.token)).await;
    assert_eq!(status, 403, "agents do not read reports: {r}");
    let (status, r) = get(&s, &path, Some(&admin)).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["chats"], 3, "{r}");
    assert_eq!(r["answered"], 1, "{r}");
    assert_eq!(r["missed"], 2, "{r}");
    assert_eq!(r["ratings"], json!({"good": 1, "bad": 0}));
    assert_eq!(r["first_response_ms"]["count"], 1, "{r}");
    assert_eq!(r["time_to_close_ms"]["count"], 2, "{r}");
    assert_eq!(r["time_zone"], "UTC");
    let agents = r["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 1, "{r}");
    assert_eq!(agents[0]["staff_id"], json!(a.id));
    assert_eq!(agents[0]["chats"], 2);
    assert_eq!(agents[0]["first_replies"], 1);
    assert!(
        r["staff_names"][&a.id]
            .as_str()
            .is_some_and(|n| !n.is_empty()),
        "{r}"
    );
    let volume: i64 = r["volume"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d.as_array().unwrap().iter().map(|n| n.as_i64().unwrap()))
        .sum();
    assert_eq!(volume, 3);
    // A range before these chats has none; another time zone moves the hours, not the count.
    let (_, none) = get(
        &s,
        &format!("/api/v1/reports?since={}&until={start}", start - 86_400_000),
        Some(&admin),
    )
    .await;
    assert_eq!(none["chats"], 0, "{none}");
    let (status, tokyo) = get(&s, &format!("{path}&tz=Asia/Tokyo"), Some(&admin)).await;
    assert_eq!((status, &tokyo["chats"]), (200, &json!(3)), "{tokyo}");
    assert_eq!(tokyo["time_zone"], "Asia/Tokyo");

    // CSV for a spreadsheet.
    let res = http()
        .get(s.url(&format!("{path}&format=csv")))
        .header("Authorization", &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = res.text().await.unwrap();
    assert!(text.starts_with("section,name,value\n"), "{text}");
    assert!(text.contains("\nsummary,chats,3\n"), "{text}");
    assert!(text.contains("\nsummary,missed,2\n"), "{text}");
    assert!(text.contains("\nratings,good,1\n"), "{text}");

    // Bad parameters: 400 naming the parameter.
    for (query, name) in [
        ("tz=Mars/Base", "tz"),
        ("since=10&until=5", "since"),
        ("since=0&until=99999999999999", "since"),
        ("missed_after_secs=0", "missed_after_secs"),
        ("format=xml", "format"),
        ("group=agent", "group"),
    ] {
        let (status, body) = get(&s, &format!("/api/v1/reports?{query}"), Some(&admin)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(name),
            "{query}: {body}"
        );
    }
}
