//! `frontdesk serve`: opens the store, binds, serves HTTP (and the real-time transports) on one
//! port with our own accept loop, and shuts down cleanly on SIGINT/SIGTERM.

use crate::app::App;
use crate::config::Config;
use crate::http::{self, PeerAddr};
use crate::live::{Live, LiveConfig};
use crate::realtime::socketio;
use crate::realtime::ws;
use crate::store::Store;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use socketioxide::SocketIo;
use std::convert::Infallible;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long open connections get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

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
    let live = Live::start(
        store.clone(),
        LiveConfig::new(config.reconnect_grace, config.max_staffs_in_chat),
    )
    .await?;
    let app = App::new(config, store.clone(), live.clone());
    announce(&app).await?;
    tokio::spawn(purge_tokens_hourly(store.clone()));

    // socketioxide takes `/socket.io/`, everything else falls through to the warp routes.
    let routes = TowerToHyperService::new(warp::service(http::routes(app.clone())));
    let (svc, io) = SocketIo::builder()
        .ping_interval(socketio::PING_INTERVAL)
        .ping_timeout(socketio::PING_TIMEOUT)
        .max_buffer_size(socketio::BUFFER)
        .max_payload(1 << 20)
        .with_state(socketio::Ctx { app: app.clone() })
        .build_with_inner_svc(routes);
    socketio::configure(&io);
    crate::notify::systemd("READY=1");
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown_signal());

    loop {
        let (stream, peer) = tokio::select! {
            res = listener.accept() => match res {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (svc, app) = (svc.clone(), app.clone());
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(PeerAddr(peer));
            let (svc, app) = (svc.clone(), app.clone());
            async move {
                if ws::is_ws(&req) {
                    return Ok(ws::handle(&app, req).await);
                }
                if let Some(refusal) = socketio::check_handshake(&app, &mut req).await {
                    return Ok::<_, Infallible>(refusal);
                }
                let resp = match svc.call(req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                Ok(resp.map(|b| b.map_err(Into::into).boxed()))
            }
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
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
