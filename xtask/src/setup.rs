//! Installing what the project needs, each step skipped when already done.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::util::{self, command, locked_version, project_root, version_of};

/// Trunk 0.22 does not build on rustc 1.95 (TOOLCHAIN.md).
const TRUNK_VERSION: &str = "0.21.14";
const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Everything: build tools and browser test tools.
pub(crate) fn all() -> anyhow::Result<()> {
    build_tools()?;
    browser_tools()
}

/// What building the PWA needs.
pub(crate) fn build_tools() -> anyhow::Result<()> {
    require_node()?;
    wasm_target()?;
    nightly_toolchain()?;
    cargo_tool("trunk", "trunk", TRUNK_VERSION, "about 15 minutes on 2 cores")?;
    let wasm_bindgen = locked_version("wasm-bindgen")?;
    cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &wasm_bindgen, "about 4 minutes")?;
    npm_packages(&project_root().join("tools"))?;
    // Trunk builds offline (Trunk.toml), so every crate must be in the local registry first.
    util::run(command("cargo").arg("fetch").arg("--quiet"))
}

/// What the browser suites need.
pub(crate) fn browser_tools() -> anyhow::Result<()> {
    debian_packages(&[(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver"), ("/usr/sbin/ip", "iproute2")])?;
    npm_packages(&project_root().join("e2e"))
}

/// The nightly toolchain, pinned to one day: the PWA's release build (`run::build_pwa`) and
/// `cargo xtask fuzz` use it. With the standard library's source, for `-Zbuild-std`.
pub(crate) const NIGHTLY: &str = "nightly-2026-05-19";

/// Installs [`NIGHTLY`] with `rust-src` unless it is there.
pub(crate) fn nightly_toolchain() -> anyhow::Result<()> {
    let toolchains = command("rustup").args(["toolchain", "list"]).output().context("rustup is needed")?;
    if String::from_utf8_lossy(&toolchains.stdout).lines().any(|t| t.starts_with(NIGHTLY)) {
        return Ok(());
    }
    println!("xtask: installing the {NIGHTLY} toolchain (the PWA's release build and fuzzing need it)");
    util::run(command("rustup").args(["toolchain", "install", NIGHTLY, "--profile", "minimal", "--component", "rust-src"]))
}

/// What `cargo xtask fuzz` needs: the nightly toolchain and cargo-fuzz.
pub(crate) fn fuzz_tools() -> anyhow::Result<()> {
    nightly_toolchain()?;
    if version_of("cargo-fuzz").is_none() {
        println!("xtask: installing cargo-fuzz (a few minutes, once)");
        util::run(command("cargo").args(["install", "--locked", "cargo-fuzz"]))?;
    }
    Ok(())
}

fn require_node() -> anyhow::Result<()> {
    if version_of("node").is_none() || version_of("npm").is_none() {
        bail!("Node.js and npm are needed (for wasm-opt and Playwright): install them, e.g. `apt-get install nodejs npm`");
    }
    Ok(())
}

fn wasm_target() -> anyhow::Result<()> {
    let installed = command("rustup").args(["target", "list", "--installed"]).output().context("rustup is needed")?;
    if String::from_utf8_lossy(&installed.stdout).lines().any(|t| t == "wasm32-unknown-unknown") {
        return Ok(());
    }
    println!("xtask: adding the wasm32-unknown-unknown target");
    util::run(command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn cargo_tool(binary: &str, package: &str, version: &str, duration: &str) -> anyhow::Result<()> {
    let found = version_of(binary);
    if found.as_deref().and_then(|line| line.split_whitespace().nth(1)) == Some(version) {
        return Ok(());
    }
    println!(
        "xtask: installing {package} {version} (found: {}); this takes {duration}, once",
        found.as_deref().unwrap_or("none")
    );
    util::run(command("cargo").args(["install", "--locked", package, "--version", version]))
}

/// `npm ci` unless node_modules already matches the lockfile.
fn npm_packages(dir: &Path) -> anyhow::Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    if let (Some(lock_time), Some(installed_time)) = (modified(&lock), modified(&installed))
        && installed_time >= lock_time
    {
        return Ok(());
    }
    println!("xtask: installing npm packages in {}", dir.display());
    util::run(command("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))
}

fn debian_packages(needed: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> =
        needed.iter().filter(|(path, _)| !Path::new(path).exists()).map(|(_, package)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !util::is_root() {
        bail!("the browser suites need Debian packages: run `sudo apt-get install -y {}`", missing.join(" "));
    }
    println!("xtask: installing {} from Debian (about a minute)", missing.join(", "));
    util::run(command("apt-get").arg("update").arg("-qq"))?;
    util::run(command("apt-get").args(["install", "-y", "-qq"]).args(&missing).env("DEBIAN_FRONTEND", "noninteractive"))
}
