//! `cargo xtask run`: build the PWA and serve it from the platform.

use crate::{setup, util};

pub(crate) fn run(platform_args: &[String]) -> anyhow::Result<()> {
    setup::build_tools()?;
    build_pwa()?;
    println!("xtask: starting the platform (Ctrl-C stops it)");
    util::run(util::command("cargo").args(["run", "--release", "--quiet", "-p", "platform", "--"]).args(platform_args))
}

/// Release build of the PWA into dist/ (Trunk runs `cargo xtask pwa-finish` as its hook, on stable).
///
/// The wasm is built with the pinned nightly and its own standard library (`-Zbuild-std`): with
/// `panic=immediate-abort` a panic traps without formatting a message, and std's
/// `optimize_for_size` picks its smaller code: 65 KB gzip less for the whole app than stable
/// (550 against 615 KB when introduced; `cargo xtask bench app`). Panics in the release app
/// print nothing; debug builds keep them.
pub(crate) fn build_pwa() -> anyhow::Result<()> {
    println!("xtask: building the PWA (release; a few minutes the first time)");
    util::run(
        util::command("trunk")
            .args(["build", "--release"])
            .env("RUSTUP_TOOLCHAIN", setup::NIGHTLY)
            .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
            .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size")
            // Added to `.cargo/config.toml`'s wasm32 flags (cargo joins the two lists).
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS", "-Zunstable-options -Cpanic=immediate-abort"),
    )
}
