//! `/ws`: the events of product.md §6 as one JSON object per text frame.
//! client → server `{"event", "data", "id"?}`; ack `{"ack": id, "result", "error_message"}`;
//! server → client `{"event", "data"}`.

use super::{handle_event, Limits};
use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::http::{bearer, error_reply};
use crate::live::{Live, Outgoing};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use warp::filters::ws::{Message, WebSocket, Ws};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

/// The server pings this often; a peer silent for `DEAD_AFTER` is dropped.
const PING_EVERY: Duration = Duration::from_secs(10);
const DEAD_AFTER: Duration = Duration::from_secs(25);
/// A peer that takes longer than this to accept one frame is too slow to keep.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames above this are a protocol error (content itself is limited far lower).
const MAX_FRAME: usize = 1 << 20;

pub fn route(app: App) -> BoxedFilter<(Response,)> {
    warp::path!("ws")
        .and(warp::ws())
        .and(bearer())
        .and(warp::query::<HashMap<String, String>>())
        .and(crate::http::with_app(app))
        .then(
            |ws: Ws, header: Option<String>, query: HashMap<String, String>, app: App| async move {
                let token = header.or_else(|| query.get("token").cloned());
                let force = query.get("force").is_some_and(|f| f == "1" || f == "true");
                let principal = match token {
                    None => Err(ApiError::unauthorized(
                        "An access token is required (Authorization header or ?token=).",
                    )),
                    Some(t) => auth::authenticate(&app.store, &t).await,
                };
                match principal {
                    Err(e) => error_reply(&e),
                    Ok(who) => ws
                        .max_message_size(MAX_FRAME)
                        .on_upgrade(move |socket| session(socket, app, who, force))
                        .into_response(),
                }
            },
        )
        .boxed()
}

#[derive(Deserialize)]
struct Frame<'a> {
    event: Option<String>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    id: Option<u64>,
}

#[derive(Deserialize)]
struct JustId {
    id: Option<u64>,
}

fn ack_frame(id: Option<u64>, result: bool, error: Option<&str>) -> String {
    serde_json::json!({"ack": id, "result": result, "error_message": error}).to_string()
}

async fn session(socket: WebSocket, app: App, who: Principal, force: bool) {
    let live: Live = app.live.clone();
    let _counted = app.connections.open(1, matches!(who, Principal::Staff(_)));
    let (conn, outbox, mut rx) = live.open();
    let limits = Limits::new(app.config.max_events_per_sec, app.config.max_content_bytes);
    live.connect(conn, who, force, outbox.clone()).await;
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let kill = outbox.kill.clone();

    loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(Ok(msg)) = frame else { break };
                last_heard = Instant::now();
                if msg.is_close() {
                    break;
                }
                if msg.is_ping() || msg.is_pong() {
                    continue;
                }
                let Ok(text) = msg.to_str() else {
                    outbox.push_raw(ack_frame(None, false, Some("Send JSON text frames.")));
                    continue;
                };
                match serde_json::from_str::<Frame>(text) {
                    Ok(Frame { event: Some(event), data, id }) => {
                        let reply = id.map(|id| {
                            let ob = outbox.clone();
                            Box::new(move |r: Result<(), String>| {
                                ob.push(Outgoing::Ack { id, result: r.is_ok(), error: r.err() });
                            }) as crate::live::Replier
                        });
                        handle_event(&live, conn, &limits, &event, data, reply).await;
                    }
                    Ok(Frame { event: None, id, .. }) => {
                        outbox.push_raw(ack_frame(id, false, Some("Missing/Invalid field: event")));
                    }
                    Err(e) => {
                        let id = serde_json::from_str::<JustId>(text).ok().and_then(|j| j.id);
                        outbox.push_raw(ack_frame(id, false, Some(&format!("The frame is not a valid JSON event: {e}"))));
                    }
                }
            }
            out = rx.recv() => {
                let text = match out {
                    Some(Outgoing::Event { name, data }) => {
                        format!("{{\"event\":\"{name}\",\"data\":{}}}", data.get())
                    }
                    Some(Outgoing::Ack { id, result, error }) => ack_frame(Some(id), result, error.as_deref()),
                    Some(Outgoing::Raw(text)) => text,
                    Some(Outgoing::Close) | None => {
                        let bye = sink.send(Message::close_with(1000u16, "closed by the server"));
                        let _ = tokio::time::timeout(SEND_TIMEOUT, bye).await;
                        break;
                    }
                };
                // A reader that stops reading must not hold this loop (and its outbox) forever.
                match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::text(text))).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > DEAD_AFTER {
                    break;
                }
                match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::ping(Vec::new()))).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
            _ = kill.notified() => {
                let bye = sink.send(Message::close_with(1008u16, "too far behind"));
                let _ = tokio::time::timeout(Duration::from_millis(100), bye).await;
                break;
            }
        }
    }
    live.disconnect(conn).await;
}
