//! `cpis-service`: the `serve`, `seed`, `openapi` and `audit` subcommands.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use cpis_service::config::{AuditCommand, Cli, Command, SeedArgs, SeedRolesArgs};
use cpis_service::{seed, server, store::Store};
use time::Date;
use time::macros::format_description;
use tracing_subscriber::EnvFilter;

/// HTTP and TLS libraries whose traces could carry headers (bearer tokens) or bodies (tokens,
/// client assertions): never logged, even at `RUST_LOG=trace`, as in the app and the broker.
const SILENCED: [&str; 5] = ["hyper", "hyper_util", "reqwest", "h2", "rustls"];

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
            eprintln!("cpis-service: could not start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => {
                let config = args.resolve().context("bad configuration")?;
                server::serve(config).await.map(|()| ExitCode::SUCCESS)
            }
            Command::Seed(args) => run_seed(args).await.map(|()| ExitCode::SUCCESS),
            Command::SeedRoles(args) => run_seed_roles(args).await.map(|()| ExitCode::SUCCESS),
            Command::Openapi => {
                print!("{}", cpis_service::api::OPENAPI_JSON);
                Ok(ExitCode::SUCCESS)
            }
            Command::Audit { command } => run_audit(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cpis-service: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `audit export`, `audit verify` and `audit reads`. Verify exits 1 on any gap, break or
/// finding.
async fn run_audit(command: AuditCommand) -> anyhow::Result<ExitCode> {
    let database = match &command {
        AuditCommand::Export(args) | AuditCommand::Verify(args) => &args.database,
        AuditCommand::Reads(args) => &args.database,
    };
    let store = Store::connect(database, 2)
        .await
        .context("could not open the database given by --database")?;
    let log = store.audit_log();
    match command {
        AuditCommand::Export(_) => {
            let mut out = std::io::stdout().lock();
            let count = log.export_ndjson(&mut out).await.context("export failed")?;
            // Then the reads the service recorded itself, oldest first (issue 17).
            let reads = log
                .export_reads_ndjson(&mut out)
                .await
                .context("export of the recorded reads failed")?;
            eprintln!("exported {count} events and {reads} recorded reads");
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Reads(args) => {
            let nhs_number = cpis_domain::NhsNumber::parse(args.nhs_number.trim())
                .map_err(|_| anyhow::anyhow!("--nhs-number is not a valid NHS number"))?;
            let reads = log
                .reads_of_patient(nhs_number.as_str())
                .await
                .context("reading the recorded reads failed")?;
            print_reads(&reads);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify(_) => {
            let reports = log.verify().await.context("verify failed")?;
            let findings = log.findings().await.context("reading findings failed")?;
            let mut clean = findings.is_empty();
            for report in &reports {
                println!(
                    "device {}: {} events, {} gaps, {} chain breaks",
                    report.device_id,
                    report.count,
                    report.gaps.len(),
                    report.breaks.len()
                );
                for (first, missing) in &report.gaps {
                    println!("  gap: {missing} missing from sequence {first}");
                }
                for sequence in &report.breaks {
                    println!("  chain break at sequence {sequence}");
                }
                clean &= report.is_clean();
            }
            for finding in &findings {
                println!(
                    "finding at ingest: device {} sequence {}: {}",
                    finding.device_id, finding.sequence, finding.kind
                );
            }
            println!(
                "{} devices, {} findings: {}",
                reports.len(),
                findings.len(),
                if clean { "ok" } else { "NOT OK" }
            );
            Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// One line a read, under a heading: when (UTC), what, who, in which role, where, and the
/// request's id.
fn print_reads(reads: &[cpis_audit_log::reads::StoredRead]) {
    println!("recorded (UTC)\tinteraction\tuser id\tuser name\trole\torganisation\trequest id");
    for read in reads {
        let event: serde_json::Value =
            serde_json::from_str(&read.resource).unwrap_or(serde_json::Value::Null);
        let agent = |who_type: &str| {
            event["agent"]
                .as_array()
                .and_then(|agents| agents.iter().find(|agent| agent["who"]["type"] == who_type))
                .cloned()
                .unwrap_or_default()
        };
        let display = |who_type: &str| {
            agent(who_type)["who"]["display"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        };
        let role = agent("PractitionerRole")["role"][0]["coding"][0]["display"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let recorded = read
            .occurred_at()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        println!(
            "{recorded}\t{}\t{}\t{}\t{}\t{} {}\t{}",
            read.interaction,
            read.user_id,
            display("Practitioner"),
            role,
            read.organisation_ods,
            display("Organization"),
            read.trace_id
        );
    }
    eprintln!("{} recorded reads", reads.len());
}

async fn run_seed_roles(args: SeedRolesArgs) -> anyhow::Result<()> {
    let store = Store::connect(&args.database, 2)
        .await
        .context("could not open the database given by --database")?;
    let count = seed::seed_role_directory(&store)
        .await
        .context("writing the role directory failed")?;
    eprintln!("wrote {count} roles of the synthetic users into the role directory");
    Ok(())
}

async fn run_seed(args: SeedArgs) -> anyhow::Result<()> {
    let today = match &args.today {
        Some(text) => Date::parse(text, format_description!("[year]-[month]-[day]"))
            .with_context(|| format!("--today {text} is not YYYY-MM-DD"))?,
        None => cpis_service::uk_time::uk_date(time::OffsetDateTime::now_utc()),
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
