//! `frontdesk serve`: opens the store, binds, serves HTTP (and the real-time transports) on one
//! port with our own accept loop, and shuts down cleanly on SIGINT/SIGTERM.

use crate::app::App;
use crate::config::Config;
use crate::http::{self, PeerAddr};
use crate::live::{Live, LiveConfig};
use crate::net::{self, Edge, Every};
use crate::realtime::socketio;
use crate::realtime::ws;
use crate::store::Store;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use socketioxide::SocketIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long open connections get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// The accept loop writes at most one line per this about refusals and accept errors: a flood
/// must not become a flood of log lines.
const LOG_EVERY: Duration = Duration::from_secs(5);
/// Back-off after a failed accept (EMFILE and the like), doubling up to the maximum.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(&config.data_dir, config.synchronous)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let mut config = config;
    // With port 0 the OS picks one: say the real address (tests read it from this line).
    config.listen = listener.local_addr()?;
    if config.public_url.ends_with(":0") {
        config.public_url = format!("http://{}", config.listen);
    }
    let mailer =
        crate::email::Mailer::start(store.clone(), &config.public_url, config.email_retry_first);
    let live = Live::start(
        store.clone(),
        LiveConfig::with_graces(
            config.visitor_reconnect_grace,
            config.staff_reconnect_grace,
            config.max_staffs_in_chat,
        ),
        Some(mailer),
        Some(crate::push::Pusher::start(store.clone(), &config.public_url).await?),
        Some(crate::webhooks::Webhooks::start(store.clone(), config.webhook_retry_first).await?),
    )
    .await?;
    let data_dir = config.data_dir.clone();
    let app = App::new(config, store.clone(), live.clone());
    announce(&app).await?;
    tokio::spawn(purge_tokens_hourly(store.clone()));
    tokio::spawn(crate::store::search::run_indexer(store.clone()));
    tokio::spawn(crate::store::privacy::run_retention(
        store.clone(),
        data_dir,
    ));

    // socketioxide takes `/socket.io/`, everything else falls through to the warp routes.
    let routes = TowerToHyperService::new(warp::service(http::routes(app.clone())));
    let (svc, io) = SocketIo::builder()
        .ping_interval(socketio::PING_INTERVAL)
        .ping_timeout(socketio::PING_TIMEOUT)
        .max_buffer_size(socketio::BUFFER)
        .max_payload(socketio::max_payload(app.config.max_content_bytes))
        .connect_timeout(app.config.socketio_connect_timeout)
        .with_state(socketio::Ctx { app: app.clone() })
        .build_with_inner_svc(routes);
    socketio::configure(&io);

    let cap = net::connection_cap(app.config.max_connections);
    let edge = Edge::new(&app.config, cap);
    tracing::info!(
        max_connections = cap,
        per_ip = app.config.max_connections_per_ip,
        pending_per_ip = app.config.max_pending_per_ip,
        "connection limits"
    );
    crate::notify::systemd("READY=1");
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    // The timer makes hyper's header-read timeout work (without one it is silently off): a
    // request head, the first or a keep-alive one, must arrive within it.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(app.config.header_read_timeout);
    let header_timeout = app.config.header_read_timeout;
    let refusals_log = Every::new(LOG_EVERY);
    let accept_log = Every::new(LOG_EVERY);
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let mut shutdown = std::pin::pin!(shutdown_signal());

    loop {
        let (stream, peer) = tokio::select! {
            res = listener.accept() => match res {
                Ok(x) => {
                    backoff = ACCEPT_BACKOFF_MIN;
                    x
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning, and
                    // say so once per period, not once per attempt.
                    if let Some(held_back) = accept_log.ready() {
                        tracing::warn!(error = %e, held_back, open = edge.open(), "accept failed");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let guard = match edge.admit(peer.ip()) {
            Ok(g) => g,
            Err(refusal) => {
                // A fresh socket's send buffer is empty: the short answer fits without
                // waiting, and the accept loop never waits on a refused client.
                let _ = stream.try_write(refusal.response());
                drop(stream);
                if let Some(held_back) = refusals_log.ready() {
                    tracing::warn!(
                        %peer,
                        why = refusal.as_str(),
                        held_back,
                        open = edge.open(),
                        "refused a connection"
                    );
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (svc, app, edge) = (svc.clone(), app.clone(), edge.clone());
        let seen = guard.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            seen.request_seen();
            req.extensions_mut().insert(PeerAddr(peer));
            let (svc, app, edge) = (svc.clone(), app.clone(), edge.clone());
            async move {
                let resp = if ws::is_ws(&req) {
                    ws::handle(&app, req).await
                } else if let Some(refusal) = socketio::check_handshake(&app, &edge, &mut req).await
                {
                    refusal
                } else {
                    match svc.call(req).await {
                        Ok(r) => r.map(|b| b.map_err(Into::into).boxed()),
                        Err(never) => match never {},
                    }
                };
                Ok::<_, Infallible>(with_common_headers(resp))
            }
        });
        let conn = builder.serve_connection_with_upgrades(
            TokioIo::new(net::Counted::new(stream, guard.clone())),
            service,
        );
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(serve_connection(conn, guard, header_timeout, peer));
    }

    crate::notify::systemd("STOPPING=1");
    tracing::info!("shutting down: no new connections, telling clients, draining");
    drop(listener);
    live.shutdown().await;
    io.close().await;
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close in time");
    }
    store.close().await;
    tracing::info!("database flushed; bye");
    Ok(())
}

/// Drives one connection, which keeps its place in the counts (`guard`) until it ends. A
/// connection that has not sent a complete request head within `first_within` of accept is
/// dropped: hyper's header-read timeout only starts once it reads, and a silent connection (or
/// one stuck in HTTP/2 prior-knowledge detection) would otherwise live forever.
async fn serve_connection<F, E>(
    conn: F,
    guard: Arc<net::ConnGuard>,
    first_within: Duration,
    peer: std::net::SocketAddr,
) where
    F: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let mut conn = std::pin::pin!(conn);
    let res = tokio::select! {
        res = &mut conn => res,
        came = guard.first_request_within(first_within) => {
            if !came {
                tracing::debug!(%peer, "no request in time; closing");
                return;
            }
            conn.await
        }
    };
    if let Err(e) = res {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

/// The common security headers on every answer that lacks them (the warp routes set their own;
/// socketioxide's answers and `/ws` refusals get them here). Not on the 101 of an upgrade.
fn with_common_headers(mut resp: hyper::Response<http::Body>) -> hyper::Response<http::Body> {
    if resp.status() != hyper::StatusCode::SWITCHING_PROTOCOLS {
        http::common_headers(resp.headers_mut());
    }
    resp
}

/// Logs where to find the console and the widget, and the setup URL while no admin exists.
async fn announce(app: &App) -> Result<(), Box<dyn std::error::Error>> {
    let base = &app.config.public_url;
    tracing::info!(
        listen = %app.config.listen,
        data = %app.config.data_dir.display(),
        "frontdesk {} ready",
        env!("CARGO_PKG_VERSION")
    );
    tracing::info!("listening on http://{}", app.config.listen);
    tracing::info!("staff console: {base}/console/");
    tracing::info!("widget snippet: <script src=\"{base}/widget.js\" async></script>");
    if let Some(token) = http::open_setup_if_needed(app).await? {
        tracing::info!("no admin account yet: create one at {base}/setup?token={token}");
    }
    Ok(())
}

/// Expired and revoked tokens are useless: drop them once an hour.
async fn purge_tokens_hourly(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.write(crate::store::accounts::purge_tokens).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "dropped dead access tokens"),
            Ok(_) => {}
            Err(crate::error::StoreError::WriterGone) => return,
            Err(e) => tracing::warn!(error = %e, "token purge failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
