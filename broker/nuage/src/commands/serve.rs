//! `nuage serve`: runs the broker (the `/v1` API, the workflow engine's workers, the audit
//! sealer and the reconciler) until SIGTERM or Ctrl-C; `nuage migrate` applies the database
//! migrations and exits; `nuage openapi` prints (or writes) the API's OpenAPI document.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use nuage_broker::config::{Config, Sources, load};
use nuage_broker::{Broker, db::redact_url};

use crate::exit::Exit;

/// Where the broker's configuration comes from: the file, then `NUAGE_*` variables
/// (`__` between levels) and `DATABASE_URL`, then these flags. See docs/configuration.md.
#[derive(Debug, Args)]
pub(crate) struct BrokerConfigArgs {
    /// The broker's configuration file (YAML or JSON).
    #[arg(long = "config", value_name = "FILE", env = "NUAGE_BROKER_CONFIG")]
    pub(crate) file: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// `sqlite:PATH` or `postgres://…` (default: the SQLite file nuage.db).
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
    /// A catalogue directory (default: the built-in example catalogue).
    #[arg(long, value_name = "DIR")]
    pub(crate) catalogue: Option<PathBuf>,
    /// A policy file (default: the built-in default policy).
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// Workflow runs executed at once by this process.
    #[arg(long, value_name = "N")]
    pub(crate) workers: Option<usize>,
}

impl BrokerConfigArgs {
    /// Loads and validates the configuration; an invalid one exits with code 3.
    pub(crate) fn load(&self) -> anyhow::Result<Config> {
        let mut sources = Sources::new().with_process_env();
        if let Some(f) = &self.file {
            sources = sources.file(f);
        }
        if let Some(l) = &self.listen {
            sources = sources.flag("listen", l.as_str());
        }
        if let Some(u) = &self.database_url {
            sources = sources.flag("database.url", u.as_str());
        }
        if let Some(c) = &self.catalogue {
            sources = sources.flag("catalogue", c.display().to_string());
        }
        if let Some(p) = &self.policy {
            sources = sources.flag("policy", p.display().to_string());
        }
        if let Some(w) = self.workers {
            sources = sources.flag("engine.workers", w);
        }
        load(&sources).map_err(|e| Exit::invalid(e.to_string()).into())
    }
}

/// `nuage serve`
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) config: BrokerConfigArgs,
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens the broker, or exits with code 3 when its configuration cannot be used.
pub(crate) async fn open(config: Config) -> anyhow::Result<Broker> {
    Broker::open(config).await.map_err(|e| match e {
        nuage_broker::Error::Config(m) => Exit::invalid(m).into(),
        other => anyhow::Error::new(other),
    })
}

pub(crate) fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    nuage_broker::server::init_tracing(&config.log);
    runtime()?.block_on(async move {
        let listen = config.listen;
        let database = redact_url(&config.database_url());
        let broker = open(config).await?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr()?;
        println!("nuage broker listening on http://{addr} (database {database})");
        for p in broker.providers().list() {
            if p.simulated {
                println!(
                    "  provider {} ({}): simulated, {}",
                    p.instance,
                    p.adapter,
                    p.reason.as_deref().unwrap_or("simulated cloud")
                );
            } else {
                println!("  provider {} ({})", p.instance, p.adapter);
            }
        }
        match broker.bootstrap().await? {
            Some((info, Some(secret))) => {
                println!(
                    "\nFirst start: an admin token was created ({}). It is shown once, now:\n\n    {}\n",
                    info.id,
                    secret.expose()
                );
                println!(
                    "Submit a request and watch it, from another terminal:\n\n    \
                     export NUAGE_SERVER=http://{addr} NUAGE_TOKEN={}\n    \
                     nuage requests create -f examples/requests/internal.yaml --wait\n",
                    secret.expose()
                );
            }
            Some((info, None)) => {
                println!("First start: the configured bootstrap admin token was installed ({}).", info.id);
            }
            None => {}
        }
        nuage_broker::server::serve(broker, listener, nuage_broker::server::shutdown_signal())
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `nuage migrate`: applies the engine's and the broker's migrations.
pub(crate) fn migrate(args: BrokerConfigArgs) -> anyhow::Result<ExitCode> {
    let config = args.load()?;
    let url = config.database_url();
    runtime()?.block_on(async move {
        let db = nuage_broker::db::Db::connect(&url, 2)
            .await
            .with_context(|| format!("migrating {}", redact_url(&url)))?;
        db.close().await;
        println!("database {} is up to date", redact_url(&url));
        Ok(ExitCode::SUCCESS)
    })
}

/// `nuage openapi`: the API's OpenAPI document, on standard output or into a file.
pub(crate) fn openapi(output: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let text = format!(
        "{}\n",
        serde_json::to_string_pretty(&nuage_broker::api::openapi())?
    );
    match output {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
