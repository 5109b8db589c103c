//! `cargo xtask run`: build the PWA and serve it from the platform.

use crate::{setup, util};

pub(crate) fn run(platform_args: &[String]) -> anyhow::Result<()> {
    setup::build_tools()?;
    build_pwa()?;
    println!("xtask: starting the platform (Ctrl-C stops it)");
    util::run(util::command("cargo").args(["run", "--release", "--quiet", "-p", "platform", "--"]).args(platform_args))
}

/// Release build of the PWA into dist/ (Trunk runs `cargo xtask pwa-finish` as its hook).
pub(crate) fn build_pwa() -> anyhow::Result<()> {
    println!("xtask: building the PWA (release; a few minutes the first time)");
    util::run(util::command("trunk").args(["build", "--release"]))
}
