//! `cpis-bench`: the measuring side of `cargo xtask bench`, built in release so that the
//! figures are not those of a debug build. Each subcommand prints one JSON document (or a
//! token, or a "listening on" line) for xtask to read.
//!
//! - `bare`: a tiny axum server, same axum and tokio as the service, with a JSON route, a route
//!   that verifies an RS256 JWT on every request, and a sink that reads a POSTed body: the
//!   baselines the service is measured against.
//! - `token` and `jwks`: a TEST-ONLY RS256 token for the bare RS256 route, and the JWKS that
//!   trusts it (the public test key under `crates/cpis-service/tests/keys`; the service trusts it
//!   as its CIS2 key).
//! - `service-token`: an opaque access token from the service's token exchange (a CIS2-style ID
//!   token and the broker's DEV-ONLY RS512 client assertion), for the service's routes.
//! - `append`: p50/p99 of the real audit queue's append beside a bare SQLite insert.
//! - `drain`: a 100,000-record backlog synced to the reference service with the real
//!   `HttpAuditTransport`, on the batch path and on the one-event-per-request PARS path, each
//!   beside the same bytes POSTed to the bare sink.

mod append;
mod bare;
mod drain;
mod keys;

use clap::{Parser, Subcommand};

/// Benchmark helpers for `cargo xtask bench`.
#[derive(Debug, Parser)]
#[command(name = "cpis-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bare baselines; prints `cpis-bench bare listening on http://ADDR` first.
    Bare {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
    /// Print a TEST-ONLY RS256 token for the bare RS256 route (the baseline; the service
    /// accepts only its own opaque tokens: see `service-token`).
    Token {
        /// Seconds until it expires.
        #[arg(long, default_value_t = 7200)]
        expires_in: i64,
    },
    /// Print the JWKS that trusts the token (`kid` `test-rsa`).
    Jwks,
    /// Print an opaque access token from the service's `/oauth2/token` (about 10 minutes) for
    /// the synthetic ED nurse (`seed` or `seed-roles` must have written the role directory).
    ServiceToken {
        /// The service's base URL (`http://127.0.0.1:PORT`).
        #[arg(long)]
        service: String,
    },
    /// Time queue appends and bare inserts, interleaved, in `dir`; print the samples (µs).
    Append(append::AppendArgs),
    /// Fill a queue in `dir` and time its sync to the service, on the batch path and on the
    /// PARS path (a fresh queue each); print the times (s).
    Drain(drain::DrainArgs),
}

fn main() -> anyhow::Result<()> {
    keys::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Command::Bare { listen } => runtime()?.block_on(bare::serve(listen)),
        Command::Token { expires_in } => {
            println!("{}", keys::token(expires_in)?);
            Ok(())
        }
        Command::ServiceToken { service } => {
            println!("{}", runtime()?.block_on(keys::service_token(&service))?);
            Ok(())
        }
        Command::Jwks => {
            println!("{}", serde_json::to_string(&keys::jwks()?)?);
            Ok(())
        }
        Command::Append(args) => {
            println!("{}", append::run(&args)?);
            Ok(())
        }
        Command::Drain(args) => {
            let report = runtime()?.block_on(drain::run(&args))?;
            println!("{report}");
            Ok(())
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
