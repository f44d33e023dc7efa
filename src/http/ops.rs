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
