//! `cargo xtask fuzz [SECONDS]`: runs every cargo-fuzz target of every crate (`<crate>/fuzz/`)
//! for SECONDS each (default 300), starting from the committed seeds in
//! `<crate>/fuzz/seeds/<target>/` and growing a corpus in a temporary directory, so the
//! repository only ever holds the seeds. Prints and writes bench-results/fuzz.json with each
//! target's executions and coverage.

use std::{
    collections::VecDeque,
    fmt::Write as _,
    io::{BufRead as _, BufReader},
    path::Path,
    process::Stdio,
};

use anyhow::{Context as _, bail};

use crate::{setup, util};

const DEFAULT_SECONDS: u64 = 300;

struct Outcome {
    name: String,
    success: bool,
    runs: Option<u64>,
    coverage: Option<u64>,
    features: Option<u64>,
}

pub(crate) fn run(seconds: Option<u64>) -> anyhow::Result<()> {
    setup::fuzz_tools()?;
    let seconds = seconds.unwrap_or(DEFAULT_SECONDS);
    let root = util::project_root();
    let mut outcomes = Vec::new();
    for (krate, target) in fuzz_targets(&root)? {
        println!("xtask: fuzzing {krate}/{target} for {seconds} s");
        outcomes.push(fuzz_one(&root.join(&krate), &krate, &target, seconds)?);
    }
    let json = report(&outcomes, seconds);
    std::fs::create_dir_all(root.join("bench-results"))?;
    std::fs::write(root.join("bench-results/fuzz.json"), &json)?;
    println!("{json}");
    let failed: Vec<&str> = outcomes.iter().filter(|o| !o.success).map(|o| o.name.as_str()).collect();
    if !failed.is_empty() {
        bail!("fuzz targets failed: {}", failed.join(", "));
    }
    Ok(())
}

/// (crate directory name, target name) for every `<crate>/fuzz/fuzz_targets/<target>.rs`.
fn fuzz_targets(root: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let krate = entry?.path();
        let Ok(sources) = std::fs::read_dir(krate.join("fuzz/fuzz_targets")) else { continue };
        for source in sources {
            let source = source?.path();
            if let (Some(krate), Some(target)) = (krate.file_name(), source.file_stem()) {
                targets.push((krate.to_string_lossy().into_owned(), target.to_string_lossy().into_owned()));
            }
        }
    }
    targets.sort();
    Ok(targets)
}

fn fuzz_one(crate_dir: &Path, krate: &str, target: &str, seconds: u64) -> anyhow::Result<Outcome> {
    let corpus = std::env::temp_dir().join("om-fuzz").join(format!("{krate}-{target}"));
    std::fs::create_dir_all(&corpus)?;
    let seeds = crate_dir.join("fuzz/seeds").join(target);
    let mut command = util::command("cargo");
    command
        .arg(format!("+{}", setup::NIGHTLY))
        .args(["fuzz", "run", target])
        .arg(&corpus)
        .args(seeds.is_dir().then_some(&seeds))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .current_dir(crate_dir)
        // Sanitizer builds stay in the fuzz crate's own target/, apart from ordinary builds.
        .env_remove("CARGO_TARGET_DIR")
        .stderr(Stdio::piped());
    let mut child = command.spawn().context("cannot start cargo fuzz")?;
    // libFuzzer reports on stderr; keep the tail for a crash report and the final statistics.
    let mut tail = VecDeque::with_capacity(64);
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tail.len() == 64 {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
    let success = child.wait()?.success();
    if !success {
        eprintln!("{}", Vec::from(tail.clone()).join("\n"));
    }
    let last_status = tail.iter().rev().find(|line| line.contains(" cov: ")).cloned().unwrap_or_default();
    Ok(Outcome {
        name: format!("{krate}/{target}"),
        success,
        runs: tail.iter().rev().find_map(|line| line.strip_prefix("Done ")?.split(' ').next()?.parse().ok()),
        coverage: stat(&last_status, "cov:"),
        features: stat(&last_status, "ft:"),
    })
}

/// The number after `key` in a libFuzzer status line (`#123 DONE cov: 456 ft: 789 ...`).
fn stat(line: &str, key: &str) -> Option<u64> {
    let mut words = line.split_whitespace();
    words.find(|word| *word == key)?;
    words.next()?.parse().ok()
}

fn report(outcomes: &[Outcome], seconds: u64) -> String {
    let number = |value: Option<u64>| value.map_or_else(|| "null".to_owned(), |v| v.to_string());
    let mut json = format!("{{\n  \"seconds_per_target\": {seconds},\n  \"targets\": {{");
    for (index, outcome) in outcomes.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        let _ = write!(
            json,
            "{separator}\n    \"{}\": {{ \"ok\": {}, \"executions\": {}, \"coverage\": {}, \"features\": {} }}",
            outcome.name,
            outcome.success,
            number(outcome.runs),
            number(outcome.coverage),
            number(outcome.features)
        );
    }
    json.push_str("\n  }\n}\n");
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_statistics() {
        let line = "#1843922\tDONE   cov: 512 ft: 1337 corp: 90/4Kb lim: 4096 exec/s: 6123 rss: 60Mb";
        assert_eq!(stat(line, "cov:"), Some(512));
        assert_eq!(stat(line, "ft:"), Some(1337));
        assert_eq!(stat(line, "corp:"), None);
    }

    #[test]
    fn report_names_every_target() {
        let outcome = Outcome { name: "crypto/voucher".into(), success: true, runs: Some(10), coverage: Some(5), features: None };
        let json = report(&[outcome], 300);
        assert!(json.contains("\"crypto/voucher\": { \"ok\": true, \"executions\": 10, \"coverage\": 5, \"features\": null }"), "{json}");
    }
}
