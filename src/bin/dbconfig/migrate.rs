//! `dbconfig migrate status|up|stamp URL DIR`: versioned migrations from a directory (see
//! `dbconfig::migrate` for the layout); `dbconfig migrate plan URL SCHEMA [--dir DIR]`: the step
//! that brings the database to a schema file (see `dbconfig::migrate::plan`).
//!
//! Exit status: 0 when the command did its work (`status`: the database is at the last step,
//! every checksum matching; `plan`: the step was printed or written, or there was nothing to
//! plan); 1 on any error (a failed step, a changed checksum, a step the database has and the
//! directory lacks) and for `status` when steps are pending, changed or unknown; 2 for bad
//! arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use dbconfig::migrate::plan::{ChangeKind, Plan};
use dbconfig::migrate::{Applied, MigrationError, Migrations, StepState, StepStatus};
use dbconfig::schema::Metadata;
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
    /// Compare the database with a schema file and write the step that brings it there:
    /// additive changes, plus destructive ones with --destructive; printed, or written into
    /// --dir as the next step (`<id>_<name>.<sqlite|postgres>.sql`).
    Plan {
        /// The connection URL.
        url: String,
        /// The schema file (JSON or TOML).
        schema: PathBuf,
        /// Write the step into this migrations directory instead of printing it.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The step's id (default: the directory's last id plus one, 0001 for none).
        #[arg(long)]
        id: Option<String>,
        /// The step's name, its description.
        #[arg(long, default_value = "planned")]
        name: String,
        /// Also write the destructive changes (dropped columns, tables and indexes, type and
        /// NOT NULL changes).
        #[arg(long)]
        destructive: bool,
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
    let (code, config) = match command {
        MigrateCommand::Status { url, dir, json } => {
            let (migrations, config) = open(&url, &dir)?;
            (status(&migrations, &config, json).await?, config)
        }
        MigrateCommand::Up { url, dir, json } => {
            let (migrations, config) = open(&url, &dir)?;
            (up(&migrations, &config, json).await?, config)
        }
        MigrateCommand::Stamp { url, dir, to, json } => {
            let (migrations, config) = open(&url, &dir)?;
            let code = stamp(&migrations, &config, to.as_deref(), json).await?;
            (code, config)
        }
        MigrateCommand::Plan {
            url,
            schema,
            dir,
            id,
            name,
            destructive,
            json,
        } => {
            let config = config(&url)?;
            let metadata = Metadata::from_file(&schema)?;
            let request = PlanRequest {
                dir: dir.as_deref(),
                id: id.as_deref(),
                name: &name,
                destructive,
                json,
            };
            (plan(&config, &metadata, &request).await?, config)
        }
    };
    if let Ok(engine) = dbconfig::DatabaseConfig::engine(&config).await {
        engine.dispose();
    }
    Ok(code)
}

fn open(url: &str, dir: &Path) -> dbconfig::Result<(Migrations, AnyConfig)> {
    Ok((Migrations::from_dir(dir)?, config(url)?))
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

struct PlanRequest<'a> {
    dir: Option<&'a Path>,
    id: Option<&'a str>,
    name: &'a str,
    destructive: bool,
    json: bool,
}

async fn plan(
    config: &AnyConfig,
    metadata: &Metadata,
    request: &PlanRequest<'_>,
) -> dbconfig::Result<ExitCode> {
    let plan: Plan = config.plan_db(metadata).await?;
    let has_work = plan.has_work(request.destructive);
    let written = match request.dir {
        Some(dir) if has_work => Some(write_step(&plan, dir, request)?),
        _ => None,
    };
    let sql = has_work.then(|| plan.sql(request.destructive));
    if request.json {
        let changes: Vec<_> = plan
            .changes
            .iter()
            .map(|c| {
                json!({
                    "kind": c.kind.to_string(),
                    "summary": c.summary,
                    "statements": c.statements,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "dialect": plan.dialect.name(),
                "changes": changes,
                "sql": sql,
                "written": written.as_ref().map(|p| p.display().to_string()),
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    if plan.is_empty() {
        println!("the database matches the schema: nothing to plan");
        return Ok(ExitCode::SUCCESS);
    }
    for change in &plan.changes {
        let mark = match change.kind {
            ChangeKind::Additive => "+",
            ChangeKind::Destructive if request.destructive => "-",
            ChangeKind::Destructive => "- (not written: --destructive)",
            _ => "! (by hand)",
        };
        eprintln!("{mark} {}", change.summary);
    }
    match (written, sql) {
        (Some(path), _) => println!("wrote {}", path.display()),
        (None, Some(sql)) => print!("{sql}"),
        (None, None) => println!("nothing to write"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the plan into `dir` as the next step; refuses to overwrite a file.
fn write_step(plan: &Plan, dir: &Path, request: &PlanRequest<'_>) -> dbconfig::Result<PathBuf> {
    let load = |reason: String| MigrationError::Load {
        path: dir.display().to_string(),
        reason,
    };
    let id = match request.id {
        Some(id) => id.to_owned(),
        None => {
            let last = if dir.is_dir() {
                Migrations::from_dir(dir)?
                    .steps()
                    .last()
                    .map(|s| s.id.clone())
            } else {
                None
            };
            match last {
                None => "0001".to_owned(),
                Some(last) => {
                    let n: u64 = last.parse().map_err(|_| {
                        load(format!("cannot number a step after id {last:?}: give --id"))
                    })?;
                    format!("{:0width$}", n + 1, width = last.len())
                }
            }
        }
    };
    let name = request.name.replace(' ', "_");
    let dialect = plan.dialect.name();
    std::fs::create_dir_all(dir).map_err(|e| load(e.to_string()))?;
    let path = dir.join(format!("{id}_{name}.{dialect}.sql"));
    let step = plan.migration(&id, request.name, request.destructive);
    let text = step.sql_for(plan.dialect)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| MigrationError::Load {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| MigrationError::Load {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    Ok(path)
}
