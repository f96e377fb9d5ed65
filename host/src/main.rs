//! The `roomd` binary: reads `config.toml`, serves it, exits 0 on SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use clap::Parser;
use roomd::app::App;
use roomd::config::Config;

/// mimalloc rather than the C library's malloc: chat +17 % (2.10 → 2.46 M deliveries/s,
/// BENCHMARKS.md). With glibc's, about a tenth of the server's time went to malloc and
/// free, much of it merging freed blocks, as a stage's worth of frames is built at once
/// and freed later by the writers.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Socket.IO server with rooms and namespaces.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The configuration file.
    #[arg(long, default_value = "config.toml")]
    config: PathBuf,

    /// Listen here instead of `server.listen` (port 0 picks a free port).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("roomd: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("roomd: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config, args.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("roomd: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, config_path: PathBuf) -> Result<(), String> {
    let (listen, path, site) = (config.listen, config.path.clone(), config.site.clone());
    if site.demo_tokens.is_some() {
        tracing::warn!("demo token endpoint enabled: /demo/token signs a valid token for anyone; for demos only");
    }
    let app = Arc::new(App::build(config).map_err(|e| format!("{}: {e}", config_path.display()))?);
    let _reloader = roomd::reload::watch(app.clone(), config_path, None).map_err(|e| format!("cannot watch files: {e}"))?;
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%address, %path, "roomd listening");
    roomd::server::serve_site(listener, &path, app.io().clone(), site, roomd::server::shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("roomd stopped");
    Ok(())
}
