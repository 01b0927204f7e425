//! `cpis-broker serve`: the trust-side token broker.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use cpis_broker::config::{Cli, Command};
use cpis_broker::server;
use tracing_subscriber::EnvFilter;

/// HTTP and TLS libraries whose traces could carry headers (bearer tokens, client assertions) or
/// bodies (tokens): never logged, even at `RUST_LOG=trace`, as in the app.
const SILENCED: [&str; 6] = ["hyper", "hyper_util", "reqwest", "h2", "rustls", "oauth2"];

/// `RUST_LOG` (default `info,sqlx=warn`), with [`SILENCED`] always off.
fn log_filter() -> EnvFilter {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    for target in SILENCED {
        if let Ok(directive) = format!("{target}=off").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cpis-broker: could not start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<()> = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => {
                let config = args.resolve().context("bad configuration")?;
                server::serve(config).await.context("cpis-broker failed")
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cpis-broker: {error:#}");
            ExitCode::FAILURE
        }
    }
}
