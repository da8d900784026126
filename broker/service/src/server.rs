//! Serving the API on a socket, with graceful shutdown: on SIGTERM or Ctrl-C the listener
//! stops accepting, requests in flight finish, running steps get the grace period to finish
//! and then hand their leases back, the audit sealer chains what is left.

use std::future::Future;

use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

use crate::api::router;
use crate::config::{LogFormat, LogSettings};
use crate::error::Result;
use crate::service::Broker;

/// Installs the global log subscriber (`RUST_LOG` overrides the configured filter). Call once.
pub fn init_tracing(log: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
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
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// Runs the broker's background work and serves its API on `listener` until `shutdown`
/// resolves, then stops gracefully.
pub async fn serve(
    broker: Broker,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let running = broker.run();
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving the Nuage API");
    let served = axum::serve(listener, router(broker.clone()))
        .with_graceful_shutdown(shutdown)
        .await;
    tracing::info!("shutting down: finishing running steps");
    running.shutdown(broker.config().shutdown_grace).await;
    broker.db().close().await;
    tracing::info!("stopped");
    served.map_err(Into::into)
}
