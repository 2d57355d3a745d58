//! `dbconfig migrate status|up|stamp URL DIR`: versioned migrations from a directory (see
//! `dbconfig::migrate` for the layout).
//!
//! Exit status: 0 when the command did its work (`status`: the database is at the last step,
//! every checksum matching); 1 on any error (a failed step, a changed checksum, a step the
//! database has and the directory lacks) and for `status` when steps are pending, changed or
//! unknown; 2 for bad arguments.

use std::process::ExitCode;

use clap::Subcommand;
use dbconfig::migrate::{Applied, Migrations, StepState, StepStatus};
use dbconfig::{AnyConfig, Settings};
use serde_json::json;

#[derive(Subcommand)]
pub(crate) enum MigrateCommand {
    /// List each step: applied (when, checksum ok or changed), pending, or unknown.
    Status {
        /// The connection URL.
        url: String,
        /// The migrations directory.
        dir: std::path::PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Apply the pending steps, each in its own transaction, printing a line per step.
    Up {
        /// The connection URL.
        url: String,
        /// The migrations directory.
        dir: std::path::PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Record steps as applied without running them (a database already at that step).
    Stamp {
        /// The connection URL.
        url: String,
        /// The migrations directory.
        dir: std::path::PathBuf,
        /// The last step to record (default: the last step of the directory).
        #[arg(long)]
        to: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) async fn run(command: MigrateCommand) -> dbconfig::Result<ExitCode> {
    let (url, dir, json) = match &command {
        MigrateCommand::Status { url, dir, json }
        | MigrateCommand::Up { url, dir, json }
        | MigrateCommand::Stamp { url, dir, json, .. } => (url, dir, *json),
    };
    let migrations = Migrations::from_dir(dir)?;
    let config = config(url)?;
    let code = match &command {
        MigrateCommand::Status { .. } => status(&migrations, &config, json).await?,
        MigrateCommand::Up { .. } => up(&migrations, &config, json).await?,
        MigrateCommand::Stamp { to, .. } => {
            stamp(&migrations, &config, to.as_deref(), json).await?
        }
    };
    if let Ok(engine) = dbconfig::DatabaseConfig::engine(&config).await {
        engine.dispose();
    }
    Ok(code)
}

fn config(url: &str) -> dbconfig::Result<AnyConfig> {
    let mut settings = Settings::from_env()?;
    settings.connection_url = Some(url.parse()?);
    AnyConfig::from_settings(settings)
}

async fn status(
    migrations: &Migrations,
    config: &AnyConfig,
    json: bool,
) -> dbconfig::Result<ExitCode> {
    let steps = migrations.status(config).await?;
    let at_head = steps.iter().all(|s| {
        matches!(
            s.state,
            StepState::Applied {
                checksum_ok: true,
                ..
            }
        )
    });
    if json {
        let steps: Vec<_> = steps.iter().map(step_json).collect();
        println!("{}", json!({ "at_head": at_head, "steps": steps }));
    } else {
        for s in &steps {
            let state = match &s.state {
                StepState::Applied {
                    applied_at,
                    checksum_ok: true,
                } => format!("applied {applied_at}"),
                StepState::Applied { applied_at, .. } => {
                    format!("applied {applied_at}, CHANGED since (checksum differs)")
                }
                StepState::Pending => "pending".to_owned(),
                StepState::Unknown { applied_at } => {
                    format!("applied {applied_at}, UNKNOWN to this directory")
                }
                _ => "?".to_owned(),
            };
            println!("{} {:<30} {state}", s.id, s.description);
        }
        if at_head {
            println!("at the last step ({} steps)", steps.len());
        }
    }
    Ok(if at_head {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn step_json(s: &StepStatus) -> serde_json::Value {
    let (state, applied_at, checksum_ok) = match &s.state {
        StepState::Applied {
            applied_at,
            checksum_ok,
        } => ("applied", Some(applied_at), Some(*checksum_ok)),
        StepState::Pending => ("pending", None, None),
        StepState::Unknown { applied_at } => ("unknown", Some(applied_at), None),
        _ => ("other", None, None),
    };
    json!({
        "id": s.id,
        "description": s.description,
        "state": state,
        "applied_at": applied_at,
        "checksum_ok": checksum_ok,
    })
}

async fn up(migrations: &Migrations, config: &AnyConfig, json: bool) -> dbconfig::Result<ExitCode> {
    let applied = migrations
        .up_with(config, |a: &Applied| {
            if !json {
                println!(
                    "applied {} {} in {} ms",
                    a.id,
                    a.description,
                    a.duration.as_millis()
                );
            }
        })
        .await?;
    if json {
        let applied: Vec<_> = applied
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "description": a.description,
                    "duration_ms": a.duration.as_secs_f64() * 1e3,
                })
            })
            .collect();
        println!("{}", json!({ "applied": applied }));
    } else if applied.is_empty() {
        println!("nothing to apply: at the last step");
    } else {
        println!("{} steps applied", applied.len());
    }
    Ok(ExitCode::SUCCESS)
}

async fn stamp(
    migrations: &Migrations,
    config: &AnyConfig,
    to: Option<&str>,
    json: bool,
) -> dbconfig::Result<ExitCode> {
    let recorded = match to {
        Some(id) => migrations.stamp_to(config, id).await?,
        None => migrations.stamp(config).await?,
    };
    if json {
        println!("{}", json!({ "recorded": recorded }));
    } else {
        println!("{recorded} steps recorded as applied");
    }
    Ok(ExitCode::SUCCESS)
}
