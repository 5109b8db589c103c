//! Every command and option, documented once: this text is `cargo xtask help`.

use std::path::PathBuf;

use anyhow::bail;

pub(crate) const HELP: &str = "\
cargo xtask <command>

Commands:
  run [PLATFORM OPTIONS]  Install what is missing, build the PWA (release), start the platform
                          on http://127.0.0.1:8080 serving it. Options after `run` go to the
                          platform (see `cargo run -p platform -- --help`), e.g. --listen,
                          --data-dir (default ./data; env PLATFORM_DATA_DIR).
  test                    Install what is missing, then run every suite: native cargo tests,
                          wasm-bindgen tests in headless Chromium, Playwright end-to-end tests.
                          Browser suites run in a private network namespace.
  bench [SUITE...]        Run benchmarks and write bench-results/<suite>.json. Suites: crypto,
                          chat, platform (criterion, native); storage, webrtc (headless
                          Chromium); crypto also runs in Chromium; app (the PWA's download
                          size, gzip). No suite: all of them.
  fuzz [SECONDS]          Run every cargo-fuzz target (<crate>/fuzz) for SECONDS each (default
                          300) from its committed seeds; write bench-results/fuzz.json.
  setup                   Only install the tools (wasm32 target, pinned nightly, trunk,
                          wasm-bindgen-cli, wasm-opt, Chromium, npm packages). Idempotent.
  pwa-finish [DIR]        Trunk's post-build hook: generate the service worker's precache list
                          and move the inline loader into a file. DIR defaults to
                          $TRUNK_STAGING_DIR.
  help                    This text.
";

pub(crate) enum Command {
    Help,
    Setup,
    Run { platform_args: Vec<String> },
    Test,
    Bench { suites: Vec<String> },
    Fuzz { seconds: Option<u64> },
    PwaFinish { staging_dir: PathBuf },
}

pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> anyhow::Result<Command> {
    let command = args.next().unwrap_or_else(|| "help".to_owned());
    let rest: Vec<String> = args.collect();
    let no_arguments = |command: Command| {
        if let Some(extra) = rest.first() {
            bail!("unexpected argument {extra:?}\n\n{HELP}");
        }
        Ok(command)
    };
    match command.as_str() {
        "help" | "--help" | "-h" => Ok(Command::Help),
        "setup" => no_arguments(Command::Setup),
        "test" => no_arguments(Command::Test),
        "run" => Ok(Command::Run { platform_args: rest }),
        "bench" => Ok(Command::Bench { suites: rest }),
        "fuzz" => match rest.as_slice() {
            [] => Ok(Command::Fuzz { seconds: None }),
            [seconds] => match seconds.parse() {
                Ok(seconds) => Ok(Command::Fuzz { seconds: Some(seconds) }),
                Err(_) => bail!("fuzz takes a number of seconds, not {seconds:?}"),
            },
            _ => bail!("fuzz takes at most one argument (seconds per target)"),
        },
        "pwa-finish" => {
            let staging_dir = match rest.first() {
                Some(dir) => PathBuf::from(dir),
                None => match std::env::var_os("TRUNK_STAGING_DIR") {
                    Some(dir) => PathBuf::from(dir),
                    None => bail!("pwa-finish needs a directory or TRUNK_STAGING_DIR"),
                },
            };
            Ok(Command::PwaFinish { staging_dir })
        }
        other => bail!("unknown command {other:?}\n\n{HELP}"),
    }
}
