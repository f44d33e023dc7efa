//! `frontdesk serve`: opens the store, binds, serves HTTP (and the real-time transports) on one
//! port with our own accept loop, and shuts down cleanly on SIGINT/SIGTERM.

use crate::app::App;
use crate::config::Config;
use crate::http::{self, PeerAddr};
use crate::store::Store;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_service::Service;

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
    let app = App::new(config, store.clone());
    announce(&app).await?;

    tokio::spawn(purge_tokens_hourly(store.clone()));

    let routes = http::routes(app.clone());
    let svc = warp::service(routes);
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
        let svc = svc.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(PeerAddr(peer));
            let mut svc = svc.clone();
            svc.call(req)
        });
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }

    tracing::info!("shutting down: no new connections, draining open ones");
    drop(listener);
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
