//! `platform`: the central platform's server binary.

use clap::Parser as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = platform::config::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.mode {
        None => platform::run(cli.platform, platform::shutdown_signal()).await,
        Some(platform::config::Mode::Relay(relay)) => platform::run_relay(relay, platform::shutdown_signal()).await,
        Some(platform::config::Mode::Root(command)) => platform::run_root(&command),
        Some(platform::config::Mode::PublicKeys(config)) => platform::print_public_keys(&config),
    }
}
