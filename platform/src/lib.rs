//! The central platform: serves the PWA and the HTTP API, keeps its state in SQLite.
//!
//! The binary is a thin shell over [`run`]; tests spawn the binary itself.

pub mod config;
pub mod db;
mod http;
mod static_files;

use std::io::Write as _;

use anyhow::Context as _;

/// Opens the database, binds the socket, prints the URL and serves until `shutdown` resolves;
/// requests in flight are finished before it returns.
pub async fn run(config: config::Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let db = db::Db::open(&config.data_dir)
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    if !config.dist.join("index.html").is_file() {
        tracing::warn!(dist = %config.dist.display(), "no index.html in the PWA directory: build it with `cargo xtask run`");
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    // Tests and `cargo xtask run` read this line to learn the port.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "platform listening on http://{address}")?;
    stdout.flush()?;
    let app = http::router(http::AppState { db, dist: config.dist });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    tracing::info!("platform stopped");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
