//! A service's command line: `--config`, its switches, `--help`, `--version`.

/// A service's command line. Settings come from the config file and the environment, so the only flags are
/// `--config FILE` (or the `<PREFIX>CONFIG` variable), the service's on/off switches, `--help` and `--version`:
/// no argument-parser crate is needed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ServiceArgs {
    pub config: Option<std::path::PathBuf>,
    /// The switches given, by name without the dashes.
    pub switches: Vec<String>,
}

/// What a service's command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    Run(ServiceArgs),
    /// `--help` or `--version`: print this and exit 0.
    Print(String),
}

impl ServiceArgs {
    /// Parses `args` (without the program name). `switches` are `(name, help)` pairs.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        name: &str,
        about: &str,
        env_prefix: &str,
        switches: &[(&str, &str)],
    ) -> Result<Invocation, String> {
        let mut parsed = ServiceArgs {
            config: std::env::var_os(format!("{env_prefix}CONFIG")).map(Into::into),
            ..Default::default()
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--help" | "-h" => {
                    let mut help = format!(
                        "{about}\n\nUsage: {name} [--config FILE]{}\n\nOptions:\n  --config FILE  TOML settings; \
                         every field can also be set as {env_prefix}<FIELD> (DATABASE_URL too) [env: {env_prefix}CONFIG]\n",
                        switches.iter().map(|(s, _)| format!(" [--{s}]")).collect::<String>()
                    );
                    for (switch, text) in switches {
                        help.push_str(&format!("  --{switch}  {text}\n"));
                    }
                    help.push_str("  --help         Print help\n  --version      Print version\n");
                    return Ok(Invocation::Print(help));
                }
                "--version" | "-V" => return Ok(Invocation::Print(format!("{name} {}", env!("CARGO_PKG_VERSION")))),
                "--config" => {
                    let file = args.next().ok_or("--config needs a file")?;
                    parsed.config = Some(file.into());
                }
                other => match other.strip_prefix("--config=") {
                    Some(file) => parsed.config = Some(file.into()),
                    None => match other.strip_prefix("--").filter(|s| switches.iter().any(|(n, _)| n == s)) {
                        Some(switch) => parsed.switches.push(switch.to_string()),
                        None => return Err(format!("unexpected argument {other:?} (see --help)")),
                    },
                },
            }
        }
        Ok(Invocation::Run(parsed))
    }

    /// Parses the process's arguments; prints help or version and exits 0, or an error and exits 2.
    pub fn from_env(name: &str, about: &str, env_prefix: &str, switches: &[(&str, &str)]) -> Self {
        match Self::parse(std::env::args().skip(1), name, about, env_prefix, switches) {
            Ok(Invocation::Run(args)) => args,
            Ok(Invocation::Print(text)) => {
                println!("{text}");
                std::process::exit(0)
            }
            Err(message) => {
                eprintln!("error: {message}");
                std::process::exit(2)
            }
        }
    }

    pub fn has(&self, switch: &str) -> bool {
        self.switches.iter().any(|s| s == switch)
    }
}
