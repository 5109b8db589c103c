//! `cargo xtask`: the project's commands. See `cargo xtask help`.

mod bench;
mod flags;
mod fuzz;
mod netns;
mod pwa;
mod run;
mod setup;
mod test;
mod tidy;
mod util;

fn main() -> anyhow::Result<()> {
    let command = flags::parse(std::env::args().skip(1))?;
    std::env::set_current_dir(util::project_root())?;
    match command {
        flags::Command::Help => {
            print!("{}", flags::HELP);
            Ok(())
        }
        flags::Command::Setup => setup::all(),
        flags::Command::Run { platform_args } => run::run(&platform_args),
        flags::Command::Test => test::run(),
        flags::Command::Bench { suites } => bench::run(&suites),
        flags::Command::Fuzz { seconds } => fuzz::run(seconds),
        flags::Command::PwaFinish { staging_dir } => pwa::finish(&staging_dir),
    }
}
