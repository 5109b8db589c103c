//! `cargo xtask test`: every suite, one summary line.

use std::path::Path;

use anyhow::bail;

use crate::{netns, run::build_pwa, setup, util};

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failed_suites: Vec<&'static str>,
}

impl Tally {
    /// Runs one suite, echoing and counting its results. A suite that fails without a failed
    /// test (it did not build or start) counts as one failure.
    fn suite(&mut self, name: &'static str, command: &mut std::process::Command) {
        println!("\nxtask: === {name} ===");
        let (success, output) = util::run_capturing(command);
        let (passed, failed) = count_results(&output);
        self.passed += passed;
        self.failed += failed;
        if !success {
            self.failed += u64::from(failed == 0);
            self.failed_suites.push(name);
        }
    }

    fn skipped(&mut self, name: &'static str, why: &str) {
        println!("\nxtask: === {name} === not run: {why}");
        self.failed += 1;
        self.failed_suites.push(name);
    }
}

pub(crate) fn run() -> anyhow::Result<()> {
    setup::all()?;
    let mut tally = Tally::default();
    tally.suite("native", util::command("cargo").args(["test", "--workspace", "--exclude", "app"]));

    let wasm_crates = wasm_tested_crates()?;
    let mut wasm_args = vec!["test", "--target", "wasm32-unknown-unknown"];
    for name in &wasm_crates {
        wasm_args.extend(["-p", name]);
    }
    // Build outside the namespace (it has no route to the registry), run inside it.
    if util::run(util::command("cargo").args(&wasm_args).arg("--no-run")).is_ok() {
        wasm_args.push("--offline");
        tally.suite("wasm (headless Chromium)", &mut netns::wasm_tests(&wasm_args));
    } else {
        tally.skipped("wasm (headless Chromium)", "the wasm tests did not build");
    }

    let root = util::project_root();
    let platform = util::run(util::command("cargo").args(["build", "--quiet", "-p", "platform"]));
    match (build_pwa(), platform) {
        (Ok(()), Ok(())) => tally.suite(
            "end-to-end (Playwright)",
            netns::command("npx", &["playwright", "test"])
                .current_dir(root.join("e2e"))
                .env("PLATFORM_BIN", util::target_dir().join("debug").join("platform"))
                .env("DIST_DIR", root.join("dist")),
        ),
        _ => tally.skipped("end-to-end (Playwright)", "the PWA or the platform did not build"),
    }

    if !tally.failed_suites.is_empty() {
        println!("\nxtask: failed suites: {}", tally.failed_suites.join(", "));
    }
    println!("xtask: {} passed, {} failed", tally.passed, tally.failed);
    if tally.failed > 0 {
        bail!("some tests failed");
    }
    Ok(())
}

/// Workspace members with browser tests: those that declare wasm-bindgen-test (always a
/// dev-dependency, plain or target-specific).
fn wasm_tested_crates() -> anyhow::Result<Vec<String>> {
    let root = util::project_root();
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(&root)? {
        let manifest = entry?.path().join("Cargo.toml");
        if manifest.is_file()
            && has_wasm_tests(&manifest)
            && let Some(name) = manifest.parent().and_then(Path::file_name)
        {
            crates.push(name.to_string_lossy().into_owned());
        }
    }
    crates.sort();
    Ok(crates)
}

fn has_wasm_tests(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest)
        .is_ok_and(|text| text.lines().any(|line| line.trim_start().starts_with("wasm-bindgen-test")))
}

/// Sums the results reported by cargo test / wasm-bindgen-test (`test result: ok. 5 passed;
/// 0 failed; ...`) and by Playwright's list reporter (`  5 passed (3.1s)`, `  1 failed`).
fn count_results(output: &str) -> (u64, u64) {
    let (mut passed, mut failed) = (0, 0);
    for line in output.lines().map(str::trim) {
        if let Some(result) = line.strip_prefix("test result: ") {
            for part in result.split(['.', ';']).map(str::trim) {
                match part.split_once(' ') {
                    Some((n, "passed")) => passed += n.parse::<u64>().unwrap_or(0),
                    Some((n, "failed")) => failed += n.parse::<u64>().unwrap_or(0),
                    _ => {}
                }
            }
        } else if let Some((n, rest)) = line.split_once(' ')
            && let Ok(n) = n.parse::<u64>()
        {
            match rest.split(' ').next() {
                Some("passed") => passed += n,
                Some("failed" | "flaky") => failed += n,
                _ => {}
            }
        }
    }
    (passed, failed)
}

#[cfg(test)]
mod tests {
    use super::count_results;

    #[test]
    fn counts_cargo_and_playwright_results() {
        let output = "running 3 tests\ntest result: ok. 3 passed; 0 failed; 0 ignored\n\
                      test result: FAILED. 4 passed; 2 failed; 0 ignored\n\
                      Running 6 tests using 1 worker\n  5 passed (3.1s)\n  1 failed\n  1 flaky\n";
        assert_eq!(count_results(output), (12, 4));
    }
}
