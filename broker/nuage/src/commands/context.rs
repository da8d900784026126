//! `nuage context`: the connection contexts of the config file.

use crate::args::Format;
use crate::client::config::{ConfigFile, Context, Env, FormatName};
use crate::client::session::print_value;
use crate::client::table::{self, Col};
use crate::client::{Error, style};
use clap::Subcommand;
use serde_json::{Value, json};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// `nuage context …`
#[derive(Debug, Subcommand)]
pub(crate) enum ContextCommand {
    /// List the contexts; the current one is marked with `*`.
    List {
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Print the current context's name.
    Current,
    /// Make a context the current one.
    Use {
        /// The context.
        name: String,
    },
    /// Create a context or change some of its settings.
    Set {
        /// The context.
        name: String,
        /// The broker's URL (`http://127.0.0.1:8080`).
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// Take the token from this file (recommended; keep it mode 0600).
        #[arg(long, value_name = "FILE", group = "tok")]
        token_file: Option<PathBuf>,
        /// Take the token from this environment variable.
        #[arg(long, value_name = "VAR", group = "tok")]
        token_env: Option<String>,
        /// Read a token on standard input and keep it inline in the config file (discouraged).
        #[arg(long, group = "tok")]
        token_stdin: bool,
        /// The default output format of this context.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
        /// Also make it the current context.
        #[arg(long = "use")]
        make_current: bool,
    },
    /// Delete a context.
    Delete {
        /// The context.
        name: String,
    },
}

/// Where a context's token comes from, for listings (never the token).
fn token_ref(c: &Context) -> String {
    if let Some(f) = &c.token_file {
        format!("file {}", f.display())
    } else if let Some(v) = &c.token_env {
        format!("env ${v}")
    } else if c.token.is_some() {
        "inline (discouraged)".to_owned()
    } else {
        "none".to_owned()
    }
}

pub(crate) fn run(cmd: ContextCommand) -> anyhow::Result<ExitCode> {
    let env = Env::from_process();
    let path = env.config_path();
    let mut file = ConfigFile::load(&path)?;
    match cmd {
        ContextCommand::List { output } => {
            let current = env.context.clone().or(file.current_context.clone());
            let format = output.unwrap_or(Format::Table);
            if format == Format::Table {
                let rows = file
                    .contexts
                    .iter()
                    .map(|(name, c)| {
                        vec![
                            Col::plain(if current.as_deref() == Some(name) {
                                "*"
                            } else {
                                ""
                            }),
                            Col::plain(name.clone()),
                            Col::plain(c.server.clone().unwrap_or_default()),
                            Col::plain(token_ref(c)),
                            Col::plain(
                                c.output
                                    .map(|o| format!("{o:?}").to_lowercase())
                                    .unwrap_or_default(),
                            ),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table::render(&["CURRENT", "NAME", "SERVER", "TOKEN", "OUTPUT"], rows)
                );
            } else {
                let items: Vec<Value> = file
                    .contexts
                    .iter()
                    .map(|(name, c)| {
                        json!({
                            "name": name,
                            "current": current.as_deref() == Some(name),
                            "server": c.server,
                            "token": token_ref(c),
                            "output": c.output,
                        })
                    })
                    .collect();
                print_value(
                    &json!({"config": path, "current_context": current, "contexts": items}),
                    format,
                )?;
            }
        }
        ContextCommand::Current => match env.context.clone().or(file.current_context.clone()) {
            Some(c) => println!("{c}"),
            None => {
                return Err(Error::Config(format!(
                    "no current context in {}; pick one with `nuage context use NAME`",
                    path.display()
                ))
                .into());
            }
        },
        ContextCommand::Use { name } => {
            if !file.contexts.contains_key(&name) {
                let known: Vec<&str> = file.contexts.keys().map(String::as_str).collect();
                return Err(Error::Config(format!(
                    "no context named {name:?} in {} (known: {}); create it with `nuage context set {name} --server URL`",
                    path.display(),
                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                ))
                .into());
            }
            file.current_context = Some(name.clone());
            file.save(&path)?;
            println!("switched to context {}", style::bold(&name));
        }
        ContextCommand::Set {
            name,
            server,
            token_file,
            token_env,
            token_stdin,
            output,
            make_current,
        } => {
            if let Some(s) = &server
                && !(s.starts_with("http://") || s.starts_with("https://"))
            {
                return Err(Error::Config(format!(
                    "--server {s:?}: expected an http:// or https:// URL"
                ))
                .into());
            }
            let inline = if token_stdin {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                let t = s.trim().to_owned();
                if t.is_empty() {
                    return Err(Error::Config("no token on standard input".into()).into());
                }
                Some(t)
            } else {
                None
            };
            let token_file = match token_file {
                Some(f) => Some(std::path::absolute(&f)?),
                None => None,
            };
            let created = !file.contexts.contains_key(&name);
            let c = file.contexts.entry(name.clone()).or_default();
            if let Some(s) = server {
                c.server = Some(s.trim_end_matches('/').to_owned());
            }
            if token_file.is_some() || token_env.is_some() || inline.is_some() {
                c.token_file = token_file;
                c.token_env = token_env;
                c.token = inline;
            }
            if let Some(o) = output {
                c.output = Some(FormatName::from(o));
            }
            let warn_inline = c.token.is_some();
            if make_current || file.current_context.is_none() {
                file.current_context = Some(name.clone());
            }
            file.save(&path)?;
            println!(
                "context {} {} in {}",
                style::bold(&name),
                if created { "created" } else { "updated" },
                path.display()
            );
            if warn_inline {
                eprintln!(
                    "warning: the token is kept inline in {} (mode 0600); prefer --token-file or --token-env",
                    path.display()
                );
            }
        }
        ContextCommand::Delete { name } => {
            if file.contexts.remove(&name).is_none() {
                return Err(Error::Config(format!("no context named {name:?}")).into());
            }
            if file.current_context.as_deref() == Some(&name) {
                file.current_context = None;
            }
            file.save(&path)?;
            println!("context {name} deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}
