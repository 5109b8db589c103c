//! `cargo xtask bench`: runs the criterion benchmarks of each suite and writes one JSON file
//! per suite to bench-results/, with the mean time of every benchmark and the non-timing
//! figures (sizes, round trips) that the benchmarks write to
//! `$CARGO_TARGET_DIR/bench-figures/<suite>.json` (default `target/`).

use std::{fmt::Write as _, path::Path};

use anyhow::{Context as _, bail};

use crate::util::{self, project_root, target_dir};

/// Each suite and the packages whose benchmarks it runs.
const SUITES: &[(&str, &[&str])] =
    &[("crypto", &["crypto"]), ("chat", &["chat", "chat-sync"]), ("platform", &["platform"])];

pub(crate) fn run(requested: &[String]) -> anyhow::Result<()> {
    for name in requested {
        if !SUITES.iter().any(|(suite, _)| suite == name) {
            bail!("unknown bench suite {name:?}; suites: {}", SUITES.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", "));
        }
    }
    let root = project_root();
    std::fs::create_dir_all(root.join("bench-results"))?;
    for (suite, packages) in SUITES.iter().filter(|(suite, _)| requested.is_empty() || requested.iter().any(|r| r == suite)) {
        let criterion_home = target_dir().join(format!("criterion-{suite}"));
        let _ = std::fs::remove_dir_all(&criterion_home);
        let mut cargo = util::command("cargo");
        cargo.arg("bench");
        for package in *packages {
            cargo.args(["-p", package]);
        }
        util::run(cargo.env("CRITERION_HOME", &criterion_home))?;
        let figures_path = target_dir().join("bench-figures").join(format!("{suite}.json"));
        let figures = std::fs::read_to_string(&figures_path).ok();
        let json = suite_json(suite, &criterion_estimates(&criterion_home)?, figures.as_deref());
        let out = root.join("bench-results").join(format!("{suite}.json"));
        std::fs::write(&out, &json).with_context(|| format!("cannot write {}", out.display()))?;
        println!("xtask: {suite} results in {}:\n{json}", out.display());
    }
    Ok(())
}

/// (benchmark id, mean nanoseconds) of every benchmark below criterion's output directory.
fn criterion_estimates(dir: &Path) -> anyhow::Result<Vec<(String, f64)>> {
    let mut found = Vec::new();
    visit(dir, &mut |path| {
        if path.ends_with("new/estimates.json") {
            let benchmark = path.with_file_name("benchmark.json");
            let id = std::fs::read_to_string(&benchmark).ok().and_then(|text| json_string_field(&text, "full_id"));
            let mean = std::fs::read_to_string(path).ok().and_then(|text| mean_point_estimate(&text));
            if let (Some(id), Some(mean)) = (id, mean) {
                found.push((id, mean));
            }
        }
    })?;
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn visit(dir: &Path, on_file: &mut dyn FnMut(&Path)) -> anyhow::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() { visit(&path, on_file)? } else { on_file(&path) }
    }
    Ok(())
}

/// The `"mean": { ..., "point_estimate": X }` of criterion's estimates.json.
fn mean_point_estimate(estimates: &str) -> Option<f64> {
    let mean = &estimates[estimates.find("\"mean\"")?..];
    let value = &mean[mean.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    value.split([',', '}']).next()?.trim().parse().ok()
}

fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":\"");
    let rest = &json[json.find(&key)? + key.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn suite_json(suite: &str, estimates: &[(String, f64)], figures: Option<&str>) -> String {
    let mut json = format!("{{\n  \"suite\": \"{suite}\",\n  \"benchmarks\": {{");
    for (index, (id, mean_ns)) in estimates.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        let per_second = if *mean_ns > 0.0 { 1e9 / mean_ns } else { 0.0 };
        let _ = write!(json, "{separator}\n    \"{id}\": {{ \"mean_ns\": {mean_ns:.1}, \"per_second\": {per_second:.1} }}");
    }
    let _ = write!(json, "\n  }},\n  \"figures\": {}\n}}\n", figures.map(str::trim).unwrap_or("null"));
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_output() {
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5,"standard_error":0.1},"median":{"point_estimate":9.0}}"#;
        assert_eq!(mean_point_estimate(estimates), Some(2.5));
        assert_eq!(json_string_field(r#"{"group_id":"g","full_id":"g/f"}"#, "full_id").as_deref(), Some("g/f"));
    }

    #[test]
    fn writes_suite_json() {
        let json = suite_json("crypto", &[("verify/strict".to_owned(), 250_000.0)], Some("{\"qr\": 1}\n"));
        assert!(json.contains("\"verify/strict\": { \"mean_ns\": 250000.0, \"per_second\": 4000.0 }"), "{json}");
        assert!(json.contains("\"figures\": {\"qr\": 1}"), "{json}");
    }
}
