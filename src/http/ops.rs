//! `/healthz` and `/metrics`.

use super::with_app;
use crate::app::App;
use crate::store::writer::COMMIT_BUCKETS_MS;
use http::StatusCode;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let health = warp::path!("healthz")
        .and(warp::get())
        .and(with_app(app.clone()))
        .then(healthz);
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_app(app))
        .map(|app: App| metrics(&app));
    health.or(metrics).unify().boxed()
}

async fn healthz(app: App) -> Response {
    let ok = app
        .store
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
        .is_ok();
    let (status, text) = if ok {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    };
    warp::reply::with_status(text, status).into_response()
}

fn metrics(app: &App) -> Response {
    let s = app.store.writer_stats();
    let mut out = String::new();
    let commits = s.commits.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "# HELP frontdesk_uptime_seconds Seconds since the server started.\n\
         # TYPE frontdesk_uptime_seconds gauge\nfrontdesk_uptime_seconds {}",
        app.started.elapsed().as_secs()
    );
    let c = app.live.counts();
    let gauges = [
        (
            "frontdesk_staff_online",
            "Staff with a live connection.",
            c.staff_online,
        ),
        (
            "frontdesk_visitors_online",
            "Visitors with a live connection.",
            c.visitors_online,
        ),
        (
            "frontdesk_queue_unclaimed",
            "Chats waiting in the live queue.",
            c.unclaimed,
        ),
        (
            "frontdesk_queue_offline",
            "Chats waiting in the offline queue.",
            c.offline,
        ),
        ("frontdesk_chats_claimed", "Chats being served.", c.claimed),
    ];
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP frontdesk_connections Live real-time connections.\n# TYPE frontdesk_connections gauge"
    );
    for (t, transport) in crate::app::TRANSPORTS.iter().enumerate() {
        for (r, role) in crate::app::ROLES.iter().enumerate() {
            let _ = writeln!(
                out,
                "frontdesk_connections{{transport=\"{transport}\",role=\"{role}\"}} {}",
                app.connections.get(t, r)
            );
        }
    }
    let waiting = c
        .oldest_unclaimed_ms
        .map(|t| (crate::model::now_ms() - t).max(0) as f64 / 1000.0)
        .unwrap_or(0.0);
    let _ = writeln!(
        out,
        "# HELP frontdesk_queue_oldest_wait_seconds How long the oldest queued chat has waited.\n\
         # TYPE frontdesk_queue_oldest_wait_seconds gauge\nfrontdesk_queue_oldest_wait_seconds {waiting}"
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_events_received_total Client events received over both transports.\n\
         # TYPE frontdesk_events_received_total counter\nfrontdesk_events_received_total {}\n\
         # HELP frontdesk_events_delivered_total Server events delivered to connections.\n\
         # TYPE frontdesk_events_delivered_total counter\nfrontdesk_events_delivered_total {}\n\
         # HELP frontdesk_messages_stored_total Chat and system messages committed.\n\
         # TYPE frontdesk_messages_stored_total counter\nfrontdesk_messages_stored_total {}",
        app.live.commands.load(Ordering::Relaxed),
        app.live.events_delivered.load(Ordering::Relaxed),
        app.live.messages_stored.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_store_jobs_total Writes committed by the database writer.\n\
         # TYPE frontdesk_store_jobs_total counter\nfrontdesk_store_jobs_total {}",
        s.jobs.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP frontdesk_store_commit_seconds Latency of the writer's group commits.\n\
         # TYPE frontdesk_store_commit_seconds histogram"
    );
    for (i, bound) in COMMIT_BUCKETS_MS.iter().enumerate() {
        let _ = writeln!(
            out,
            "frontdesk_store_commit_seconds_bucket{{le=\"{}\"}} {}",
            bound / 1000.0,
            s.commit_buckets[i].load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "frontdesk_store_commit_seconds_bucket{{le=\"+Inf\"}} {commits}\n\
         frontdesk_store_commit_seconds_sum {}\nfrontdesk_store_commit_seconds_count {commits}",
        s.commit_micros_total.load(Ordering::Relaxed) as f64 / 1e6
    );
    let mut r = warp::reply::with_status(out, StatusCode::OK).into_response();
    r.headers_mut().insert(
        "content-type",
        "text/plain; version=0.0.4; charset=utf-8"
            .parse()
            .expect("static"),
    );
    r
}
