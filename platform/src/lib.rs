//! The central platform: serves the PWA and the HTTP API, keeps its state in SQLite, runs a
//! libp2p relay.
//!
//! The binary is a thin shell over [`run`], [`run_relay`] (`platform relay`), [`run_root`]
//! (`platform root`, on the offline machine) and [`print_public_keys`] (`platform public-keys`);
//! tests spawn the binary itself.

mod api;
pub mod config;
pub mod coupons;
pub mod db;
pub mod error;
mod files;
mod http;
pub mod keys;
pub mod mailbox;
pub mod registry;
pub mod relay;
pub mod root;
pub mod signatures;
mod static_files;
pub mod trust;
pub mod wire;

use std::io::Write as _;

use anyhow::Context as _;

/// Opens the database, starts the relay, binds the socket, prints the URL then the relay's
/// addresses, and serves until `shutdown` resolves; requests in flight are finished before it
/// returns.
pub async fn run(config: config::Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let db = db::Db::open(&config.data_dir)
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let keys =
        keys::PlatformKeys::load_or_generate(&config.data_dir, &config.key_paths()).context("cannot load the keys")?;
    let source = config.trust_source();
    let (keys, trust) = db
        .with(move |connection| {
            let trust = trust::load(&source, &keys, connection, wire::now());
            Ok((keys, trust))
        })
        .await?;
    let trust = trust.context("refusing to start with this trust list")?;
    let signing = std::sync::Arc::new(api::Signing { keys, root: trust.root, trust: trust.list });
    if !config.dist.join("index.html").is_file() {
        tracing::warn!(dist = %config.dist.display(), "no index.html in the PWA directory: build it with `cargo xtask run`");
    }
    // Bound before the HTTP socket, so that a busy relay port fails the start before the
    // "listening" line; its addresses are printed after that line.
    let relay =
        relay::Relay::bind(&config.data_dir, &config.relay_listen()).await.context("cannot start the relay")?;
    let ice_servers = config.ice_servers().context("refusing these ICE servers")?.into();
    let directory = api::relay::RelayDirectory { own: relay.addresses(), others: config.other_relays.into(), ice_servers };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    // Tests and `cargo xtask run` read this line to learn the port; it stays the first line.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "platform listening on http://{address}")?;
    stdout.flush()?;
    let (stop_relay, relay_stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(relay.serve(async {
        let _ = relay_stopped.await;
    }));
    let operator_token = config.operator_token.map(std::sync::Arc::from);
    let app = http::router(http::AppState { db, dist: config.dist, signing, operator_token })
        .layer(axum::Extension(directory));
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    let _ = stop_relay.send(());
    if let Err(error) = relay.await {
        tracing::error!(%error, "the relay task failed");
    }
    served?;
    tracing::info!("platform stopped");
    Ok(())
}

/// `platform relay`: the relay alone, until `shutdown` resolves. Prints one line per listen
/// address and serves no HTTP.
pub async fn run_relay(
    config: config::RelayConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    if config.data_dir.join(db::DB_FILE).exists() {
        return Err(relay::RelayError::PlatformDataDir { path: config.data_dir }.into());
    }
    let relay = relay::Relay::bind(&config.data_dir, &config.listen()).await.context("cannot start the relay")?;
    relay.serve(shutdown).await;
    Ok(())
}

/// `platform root …`: the offline root's commands; prints what they made.
pub fn run_root(command: &config::RootCommand) -> anyhow::Result<()> {
    match command {
        config::RootCommand::Generate { root_key } => {
            let public = root::generate(root_key)?;
            println!("root public key {}", wire::b64(&public.to_bytes()));
        }
        config::RootCommand::SignTrustList(request) => {
            let list = root::sign_trust_list(request, wire::now())?;
            let root = keys::load_existing(&request.root_key)?.public();
            print!("trust list written to {}\n{}", request.out.display(), root::describe(&root, list.list()));
        }
    }
    Ok(())
}

/// `platform public-keys`: prints `issuer KEY` and `platform KEY` (base64url), generating
/// missing key files.
pub fn print_public_keys(config: &config::PublicKeysConfig) -> anyhow::Result<()> {
    let keys = keys::PlatformKeys::load_or_generate(&config.data_dir, &config.key_paths())?;
    println!("issuer {}", wire::b64(&keys.issuer.public().to_bytes()));
    println!("platform {}", wire::b64(&keys.platform.public().to_bytes()));
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
///
/// The handlers are installed when this is called, not when the future is first polled, so a
/// signal that arrives just after the "listening" line still shuts down gracefully. Call it
/// inside the runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |listener: std::io::Result<tokio::signal::unix::Signal>, name: &'static str| async move {
                match listener {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(error) => {
                        tracing::error!(%error, "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            };
            let (interrupt, terminate) = signals;
            tokio::select! {
                () = wait(interrupt, "SIGINT") => {},
                () = wait(terminate, "SIGTERM") => {},
            }
        }
        #[cfg(not(unix))]
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
