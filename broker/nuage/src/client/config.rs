//! Connection contexts: the config file (`~/.config/nuage/config.toml`, or `NUAGE_CONFIG`), and
//! the resolution of the server, token and output format, flags > environment > file.
//!
//! ```toml
//! current_context = "local"
//!
//! [contexts.local]
//! server = "http://127.0.0.1:8080"
//! token_file = "/home/alice/.config/nuage/local.token"   # or token_env = "VAR", or token = "…"
//! output = "table"
//! ```
//!
//! The process environment is read once, by [`Env::from_process`]; tests build [`Env`] by hand.

use super::args::GlobalArgs;
use super::error::Error;
use super::token::Token;
use crate::args::Format;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The broker's default listen address, used when nothing names a server.
pub(crate) const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// The config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    /// The context used when no `--context` or `NUAGE_CONTEXT` names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) current_context: Option<String>,
    /// Contexts by name.
    #[serde(default)]
    pub(crate) contexts: BTreeMap<String, Context>,
}

/// One connection context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Context {
    /// The broker's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) server: Option<String>,
    /// A file holding the token (preferred).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_file: Option<PathBuf>,
    /// An environment variable holding the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_env: Option<String>,
    /// The token itself (discouraged: the file then holds a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token: Option<String>,
    /// The default output format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) output: Option<FormatName>,
}

/// An output format as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FormatName {
    /// Tables.
    Table,
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl From<FormatName> for Format {
    fn from(f: FormatName) -> Format {
        match f {
            FormatName::Table => Format::Table,
            FormatName::Json => Format::Json,
            FormatName::Yaml => Format::Yaml,
        }
    }
}

impl From<Format> for FormatName {
    fn from(f: Format) -> FormatName {
        match f {
            Format::Table => FormatName::Table,
            Format::Json => FormatName::Json,
            Format::Yaml => FormatName::Yaml,
        }
    }
}

/// The environment variables the client reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    /// `NUAGE_CONFIG`: the config file's path.
    pub(crate) config: Option<PathBuf>,
    /// `NUAGE_CONTEXT`.
    pub(crate) context: Option<String>,
    /// `NUAGE_SERVER`.
    pub(crate) server: Option<String>,
    /// `NUAGE_TOKEN` (a token, not a reference).
    pub(crate) token: Option<Token>,
    /// `NUAGE_OUTPUT`.
    pub(crate) output: Option<String>,
    /// `XDG_CONFIG_HOME`.
    pub(crate) xdg_config_home: Option<PathBuf>,
    /// `HOME`.
    pub(crate) home: Option<PathBuf>,
    /// Every other variable a context may name with `token_env`.
    pub(crate) vars: BTreeMap<String, String>,
}

impl Env {
    /// Reads the process environment.
    pub(crate) fn from_process() -> Env {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            config: get("NUAGE_CONFIG").map(PathBuf::from),
            context: get("NUAGE_CONTEXT"),
            server: get("NUAGE_SERVER"),
            token: get("NUAGE_TOKEN").and_then(|t| Token::new(&t)),
            output: get("NUAGE_OUTPUT"),
            xdg_config_home: get("XDG_CONFIG_HOME").map(PathBuf::from),
            home: get("HOME").map(PathBuf::from),
            vars: std::env::vars().collect(),
        }
    }

    /// The config file's path: `NUAGE_CONFIG`, else `$XDG_CONFIG_HOME/nuage/config.toml`, else
    /// `$HOME/.config/nuage/config.toml`.
    pub(crate) fn config_path(&self) -> PathBuf {
        if let Some(p) = &self.config {
            return p.clone();
        }
        let base = match (&self.xdg_config_home, &self.home) {
            (Some(x), _) if x.is_absolute() => x.clone(),
            (_, Some(h)) => h.join(".config"),
            _ => PathBuf::from(".config"),
        };
        base.join("nuage").join("config.toml")
    }
}

impl ConfigFile {
    /// Reads the file; an absent file is an empty configuration.
    pub(crate) fn load(path: &Path) -> Result<ConfigFile, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => {
                return Err(Error::Config(format!(
                    "cannot read the config file {}: {e}",
                    path.display()
                )));
            }
        };
        toml::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "the config file {} is invalid: {}",
                path.display(),
                e.message()
            ))
        })
    }

    /// Writes the file (mode 0600: it may hold an inline token), creating its directory.
    pub(crate) fn save(&self, path: &Path) -> Result<(), Error> {
        let io = |e: std::io::Error| {
            Error::Config(format!(
                "cannot write the config file {}: {e}",
                path.display()
            ))
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::Config(format!("cannot encode the config file: {e}")))?;
        let tmp = path.with_extension("toml.tmp");
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(text.as_bytes()).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }
}

/// Where the token in use came from, for messages (never the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// No token at all.
    None,
    /// `--token-file`.
    Flag(PathBuf),
    /// `NUAGE_TOKEN`.
    EnvToken,
    /// The context's `token_file`.
    File(PathBuf),
    /// The context's `token_env`.
    EnvVar(String),
    /// The context's inline `token`.
    Inline,
}

impl std::fmt::Display for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::None => f.write_str("no token"),
            TokenSource::Flag(p) => write!(f, "token from --token-file {}", p.display()),
            TokenSource::EnvToken => f.write_str("token from NUAGE_TOKEN"),
            TokenSource::File(p) => write!(f, "token from file {}", p.display()),
            TokenSource::EnvVar(v) => write!(f, "token from ${v}"),
            TokenSource::Inline => f.write_str("inline token in the config file"),
        }
    }
}

/// What a command connects with.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The context's name, if one is in use.
    pub(crate) context: Option<String>,
    /// The broker's base URL.
    pub(crate) server: String,
    /// Whether the server is the built-in default (nothing named one).
    pub(crate) default_server: bool,
    /// The bearer token.
    pub(crate) token: Option<Token>,
    /// Where it came from.
    pub(crate) token_source: TokenSource,
    /// The output format when `-o` is not given.
    pub(crate) output: Format,
    /// Warnings to print (an inline token...).
    pub(crate) warnings: Vec<String>,
}

impl Resolved {
    /// `context "prod" (server https://…, token from file …)`, for messages.
    pub(crate) fn describe(&self) -> String {
        let ctx = match &self.context {
            Some(c) => format!("context {c:?}"),
            None => "no context".to_owned(),
        };
        let server = if self.default_server {
            format!("default server {}", self.server)
        } else {
            format!("server {}", self.server)
        };
        format!("{ctx} ({server}, {})", self.token_source)
    }
}

/// Resolves the connection: flags > environment > the context in the file.
pub(crate) fn resolve(file: &ConfigFile, env: &Env, flags: &GlobalArgs) -> Result<Resolved, Error> {
    let config_path = env.config_path();
    let name = flags
        .context
        .clone()
        .or_else(|| env.context.clone())
        .or_else(|| file.current_context.clone());
    let context = match &name {
        Some(n) => match file.contexts.get(n) {
            Some(c) => Some(c),
            None => {
                let known: Vec<&str> = file.contexts.keys().map(String::as_str).collect();
                return Err(Error::Config(format!(
                    "no context named {n:?} in {} (known: {}); create it with `nuage context set {n} --server URL`",
                    config_path.display(),
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        },
        None => None,
    };
    let mut warnings = Vec::new();
    let explicit_server = flags
        .server
        .clone()
        .or_else(|| env.server.clone())
        .or_else(|| context.and_then(|c| c.server.clone()));
    let default_server = explicit_server.is_none();
    let server = explicit_server
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned())
        .trim_end_matches('/')
        .to_owned();
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(Error::Config(format!(
            "the server {server:?} is not an http:// or https:// URL"
        )));
    }

    let (token, token_source) = if let Some(path) = &flags.token_file {
        (
            Some(read_token_file(path)?),
            TokenSource::Flag(path.clone()),
        )
    } else if let Some(t) = &env.token {
        (Some(t.clone()), TokenSource::EnvToken)
    } else if let Some(c) = context {
        if let Some(path) = &c.token_file {
            (
                Some(read_token_file(path)?),
                TokenSource::File(path.clone()),
            )
        } else if let Some(var) = &c.token_env {
            let t = env
                .vars
                .get(var)
                .and_then(|v| Token::new(v))
                .ok_or_else(|| {
                    Error::Config(format!(
                        "context {:?} takes its token from ${var}, which is not set",
                        name.as_deref().unwrap_or_default()
                    ))
                })?;
            (Some(t), TokenSource::EnvVar(var.clone()))
        } else if let Some(t) = c.token.as_deref().and_then(Token::new) {
            warnings.push(format!(
                "context {:?} keeps its token inline in {}; prefer token_file or token_env (`nuage context set {} --token-file FILE`)",
                name.as_deref().unwrap_or_default(),
                config_path.display(),
                name.as_deref().unwrap_or_default()
            ));
            (Some(t), TokenSource::Inline)
        } else {
            (None, TokenSource::None)
        }
    } else {
        (None, TokenSource::None)
    };

    let output = match env.output.as_deref() {
        Some("table") => Format::Table,
        Some("json") => Format::Json,
        Some("yaml") => Format::Yaml,
        Some(other) => {
            return Err(Error::Config(format!(
                "NUAGE_OUTPUT={other:?}: expected table, json or yaml"
            )));
        }
        None => context
            .and_then(|c| c.output)
            .map_or(Format::Table, Into::into),
    };
    Ok(Resolved {
        context: name,
        server,
        default_server,
        token,
        token_source,
        output,
        warnings,
    })
}

fn read_token_file(path: &Path) -> Result<Token, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "cannot read the token file {}: {e}",
            path.display()
        ))
    })?;
    Token::new(&text)
        .ok_or_else(|| Error::Config(format!("the token file {} is empty", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> ConfigFile {
        toml::from_str(
            r#"
current_context = "local"
[contexts.local]
server = "http://127.0.0.1:8080/"
token_env = "LOCAL_TOKEN"
output = "json"
[contexts.prod]
server = "https://nuage.example.gouv.fr"
token = "nuage_inline"
"#,
        )
        .unwrap()
    }

    fn env() -> Env {
        let mut e = Env {
            home: Some("/home/a".into()),
            ..Env::default()
        };
        e.vars.insert("LOCAL_TOKEN".into(), "nuage_local\n".into());
        e
    }

    #[test]
    fn the_current_context_gives_server_token_and_output() {
        let r = resolve(&file(), &env(), &GlobalArgs::default()).unwrap();
        assert_eq!(r.context.as_deref(), Some("local"));
        assert_eq!(r.server, "http://127.0.0.1:8080");
        assert_eq!(r.token.unwrap().expose(), "nuage_local");
        assert_eq!(r.token_source, TokenSource::EnvVar("LOCAL_TOKEN".into()));
        assert_eq!(r.output, Format::Json);
        assert!(r.warnings.is_empty());
        assert_eq!(
            env().config_path(),
            PathBuf::from("/home/a/.config/nuage/config.toml")
        );
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let mut e = env();
        e.context = Some("prod".into());
        e.server = Some("http://env:1".into());
        e.output = Some("yaml".into());
        let r = resolve(&file(), &e, &GlobalArgs::default()).unwrap();
        assert_eq!(r.context.as_deref(), Some("prod"));
        assert_eq!(r.server, "http://env:1");
        assert_eq!(r.output, Format::Yaml);
        assert_eq!(r.token_source, TokenSource::Inline);
        assert!(r.warnings[0].contains("inline"), "{:?}", r.warnings);

        let dir = tempfile::tempdir().unwrap();
        let tf = dir.path().join("t");
        std::fs::write(&tf, "nuage_fromflag\n").unwrap();
        e.token = Some(Token::new("nuage_fromenv").unwrap());
        let flags = GlobalArgs {
            context: Some("local".into()),
            server: Some("https://flag:2/".into()),
            token_file: Some(tf.clone()),
            ..GlobalArgs::default()
        };
        let r = resolve(&file(), &e, &flags).unwrap();
        assert_eq!(r.context.as_deref(), Some("local"));
        assert_eq!(r.server, "https://flag:2");
        assert_eq!(r.token.unwrap().expose(), "nuage_fromflag");
        assert_eq!(r.token_source, TokenSource::Flag(tf));
        // the environment's output beats the context's
        assert_eq!(r.output, Format::Yaml);

        let r = resolve(&file(), &e, &GlobalArgs::default()).unwrap();
        assert_eq!(r.token.unwrap().expose(), "nuage_fromenv");
        assert_eq!(r.token_source, TokenSource::EnvToken);
    }

    #[test]
    fn nothing_configured_means_the_default_server_without_token() {
        let r = resolve(&ConfigFile::default(), &env(), &GlobalArgs::default()).unwrap();
        assert_eq!(r.server, DEFAULT_SERVER);
        assert!(r.default_server && r.token.is_none() && r.context.is_none());
        assert!(r.describe().contains("default server"), "{}", r.describe());
    }

    #[test]
    fn bad_references_say_what_to_do() {
        let flags = GlobalArgs {
            context: Some("staging".into()),
            ..GlobalArgs::default()
        };
        let err = resolve(&file(), &env(), &flags).unwrap_err().to_string();
        assert!(
            err.contains("staging") && err.contains("local, prod") && err.contains("context set"),
            "{err}"
        );
        let err = resolve(&file(), &Env::default(), &GlobalArgs::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("$LOCAL_TOKEN"), "{err}");
        let flags = GlobalArgs {
            server: Some("ftp://x".into()),
            ..GlobalArgs::default()
        };
        let err = resolve(&file(), &env(), &flags).unwrap_err().to_string();
        assert!(err.contains("http://"), "{err}");
        let bad: Result<ConfigFile, _> = toml::from_str("[contexts.x]\nsrever = \"a\"\n");
        assert!(bad.is_err());
    }

    #[test]
    fn the_file_round_trips_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("config.toml");
        assert_eq!(ConfigFile::load(&path).unwrap(), ConfigFile::default());
        let f = file();
        f.save(&path).unwrap();
        assert_eq!(ConfigFile::load(&path).unwrap(), f);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "contexts = 3").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("invalid"), "{err}");
    }
}
