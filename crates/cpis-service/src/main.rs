//! `cpis-service`: `serve`, `seed` and `openapi` subcommands.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use cpis_service::config::{Cli, Command, SeedArgs};
use cpis_service::{seed, server, store::Store};
use time::Date;
use time::macros::format_description;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cpis-service: could not start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => {
                let config = args.resolve().context("bad configuration")?;
                server::serve(config).await
            }
            Command::Seed(args) => run_seed(args).await,
            Command::Openapi => {
                print!("{}", cpis_service::api::OPENAPI_JSON);
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cpis-service: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run_seed(args: SeedArgs) -> anyhow::Result<()> {
    let today = match &args.today {
        Some(text) => Date::parse(text, format_description!("[year]-[month]-[day]"))
            .with_context(|| format!("--today {text} is not YYYY-MM-DD"))?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let store = Store::connect(&args.database, 4)
        .await
        .context("could not open the database given by --database")?;
    let started = std::time::Instant::now();
    let manifest = seed::seed(
        &store,
        seed::SeedOptions {
            children: args.children,
            seed: args.seed,
            today,
            examples_per_scenario: args.examples,
        },
    )
    .await
    .context("seeding failed")?;
    let json = serde_json::to_string_pretty(&manifest).context("manifest")?;
    match &args.manifest {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("could not write the manifest to {}", path.display()))?,
        None => println!("{json}"),
    }
    eprintln!(
        "seeded {} children, {} mothers, {} plans in {:.1} s",
        manifest.children,
        manifest.mothers,
        manifest.plans,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
