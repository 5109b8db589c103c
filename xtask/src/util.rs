//! Helpers shared by the commands: paths, running programs, reading Cargo.lock.

use std::{
    ffi::OsStr,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context as _, bail};

pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Cargo's build directory: `$CARGO_TARGET_DIR`, else `target/` of the workspace.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| project_root().join("target"), PathBuf::from)
}

/// Where the npm-installed tools live (binaryen's wasm-opt).
pub(crate) fn tools_bin() -> PathBuf {
    project_root().join("tools").join("node_modules").join(".bin")
}

/// PATH with the project's npm tools first, so Trunk finds the pinned wasm-opt.
pub(crate) fn path_with_tools() -> std::ffi::OsString {
    let mut paths = vec![tools_bin()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(paths).unwrap_or_default()
}

/// A command with the project's tools on PATH and without `RUST_BACKTRACE` (Trunk prints
/// pages of backtrace on ordinary errors with it).
pub(crate) fn command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env("PATH", path_with_tools()).env_remove("RUST_BACKTRACE");
    command
}

/// Runs to completion, inheriting the terminal; fails with the command line on a non-zero exit.
pub(crate) fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("cannot start {}", describe(command)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs to completion, printing stdout as it comes and returning it; fails on a non-zero exit
/// only after the output was seen.
pub(crate) fn run_capturing(command: &mut Command) -> (bool, String) {
    let mut child = match command.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("cannot start {}: {error}", describe(command));
            return (false, String::new());
        }
    };
    let mut captured = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            captured.push_str(&line);
            captured.push('\n');
        }
    }
    let success = child.wait().map(|status| status.success()).unwrap_or(false);
    (success, captured)
}

/// The first line a program prints for `--version`, or None if it is not installed.
pub(crate) fn version_of(program: &str) -> Option<String> {
    let output = Command::new(program).arg("--version").env("PATH", path_with_tools()).output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    output.status.success().then(|| text.lines().next().unwrap_or_default().to_owned())
}

/// The version of `package` resolved in Cargo.lock.
pub(crate) fn locked_version(package: &str) -> anyhow::Result<String> {
    let lock = std::fs::read_to_string(project_root().join("Cargo.lock")).context("cannot read Cargo.lock")?;
    locked_version_in(&lock, package).with_context(|| format!("{package} is not in Cargo.lock"))
}

pub(crate) fn locked_version_in(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    lines.find(|line| *line == name_line)?;
    lines.next()?.strip_prefix("version = \"")?.strip_suffix('"').map(str::to_owned)
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::locked_version_in;

    #[test]
    fn reads_a_locked_version() {
        let lock = "[[package]]\nname = \"wasm-bindgen-macro\"\nversion = \"1\"\n\n[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.108\"\n";
        assert_eq!(locked_version_in(lock, "wasm-bindgen").as_deref(), Some("0.2.108"));
        assert_eq!(locked_version_in(lock, "leptos"), None);
    }
}
