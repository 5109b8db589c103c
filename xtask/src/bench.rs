//! `cargo xtask bench`: runs the benchmarks of each suite and writes one JSON file per suite to
//! bench-results/:
//! - native criterion benchmarks: the mean time of every benchmark, and the non-timing figures
//!   (sizes, round trips) that the benchmarks write to `$CARGO_TARGET_DIR/bench-figures/<suite>.json`
//!   (default `target/`);
//! - browser benchmarks: a crate's `tests/browser_bench.rs`, built with its `browser-bench`
//!   feature in the `wasm-release` profile the PWA ships with and run in headless Chromium in
//!   the test namespace; every console line `BENCH {json}` it prints is one figure.
//! - a suite's own measurement (`Suite::own`): the storage suite's reload harness
//!   (`storage_reload`), a page built from this repository's IndexedDB store, reloaded in Chromium
//!   by Playwright, for what a page that never reloads cannot measure; the webrtc suite's figures
//!   of the whole app (`webrtc_in_app`, `e2e/bench/`); the app suite's download size of the PWA
//!   (`app_size`).

use std::{fmt::Write as _, path::Path};

use anyhow::{Context as _, bail};

use crate::util::{self, project_root, target_dir};
use crate::{netns, run, setup};

/// A suite: the packages whose criterion benchmarks it runs natively, those whose browser
/// benchmark it runs, and a measurement of its own giving figures as `BENCH` JSON objects.
struct Suite {
    name: &'static str,
    native: &'static [&'static str],
    browser: &'static [&'static str],
    own: Option<fn() -> anyhow::Result<Vec<String>>>,
}

const SUITES: &[Suite] = &[
    Suite { name: "crypto", native: &["crypto"], browser: &["crypto"], own: None },
    Suite { name: "chat", native: &["chat", "chat-sync"], browser: &[], own: None },
    Suite { name: "platform", native: &["platform"], browser: &[], own: None },
    Suite { name: "storage", native: &[], browser: &["store-indexeddb"], own: Some(storage_reload) },
    Suite { name: "webrtc", native: &[], browser: &["browser-webrtc"], own: Some(webrtc_in_app) },
    Suite { name: "app", native: &[], browser: &[], own: Some(app_size) },
];

pub(crate) fn run(requested: &[String]) -> anyhow::Result<()> {
    for name in requested {
        if !SUITES.iter().any(|suite| suite.name == name) {
            bail!("unknown bench suite {name:?}; suites: {}", SUITES.iter().map(|s| s.name).collect::<Vec<_>>().join(", "));
        }
    }
    let root = project_root();
    std::fs::create_dir_all(root.join("bench-results"))?;
    let selected: Vec<&Suite> =
        SUITES.iter().filter(|suite| requested.is_empty() || requested.iter().any(|r| r == suite.name)).collect();
    if selected.iter().any(|suite| !suite.browser.is_empty() || suite.own.is_some()) {
        setup::all()?;
    }
    for suite in selected {
        let estimates = native(suite)?;
        let figures_path = target_dir().join("bench-figures").join(format!("{}.json", suite.name));
        let figures = std::fs::read_to_string(&figures_path).ok().filter(|_| !suite.native.is_empty());
        let mut browser_figures = Vec::new();
        for package in suite.browser {
            browser_figures.extend(browser(package)?);
        }
        if let Some(own) = suite.own {
            browser_figures.extend(own()?);
        }
        let json = suite_json(suite.name, &estimates, figures.as_deref(), &browser_figures);
        let out = root.join("bench-results").join(format!("{}.json", suite.name));
        std::fs::write(&out, &json).with_context(|| format!("cannot write {}", out.display()))?;
        println!("xtask: {} results in {}:\n{json}", suite.name, out.display());
    }
    Ok(())
}

/// One criterion benchmark's result.
#[derive(Debug, PartialEq)]
struct Estimate {
    id: String,
    mean_ns: f64,
    /// Elements per iteration, when the benchmark declared an element throughput.
    elements: Option<u64>,
}

/// Runs the suite's criterion benchmarks; the estimate of each.
fn native(suite: &Suite) -> anyhow::Result<Vec<Estimate>> {
    if suite.native.is_empty() {
        return Ok(Vec::new());
    }
    let criterion_home = target_dir().join(format!("criterion-{}", suite.name));
    let _ = std::fs::remove_dir_all(&criterion_home);
    let mut cargo = util::command("cargo");
    cargo.arg("bench");
    for package in suite.native {
        cargo.args(["-p", package]);
    }
    util::run(cargo.env("CRITERION_HOME", &criterion_home))?;
    criterion_estimates(&criterion_home)
}

/// Runs `package`'s browser benchmark; the JSON object of every `BENCH` line it printed.
fn browser(package: &str) -> anyhow::Result<Vec<String>> {
    let args = [
        "test",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "-p",
        package,
        "--features",
        "browser-bench",
        "--test",
        "browser_bench",
    ];
    // Build outside the namespace (it has no route to the registry), run inside it.
    util::run(util::command("cargo").args(args).arg("--no-run"))?;
    let mut run_args = args.to_vec();
    run_args.extend(["--offline", "--", "--nocapture"]);
    // A harness may run for minutes (100,000 IndexedDB inserts).
    let mut command = netns::wasm_tests(&run_args);
    let (success, output) = util::run_capturing(&mut command);
    if !success {
        bail!("the browser benchmark of {package} failed");
    }
    Ok(bench_lines(&output))
}

/// The storage suite's open-to-first-page after a real reload, which a wasm-bindgen-test cannot
/// measure (its page is never reloaded): `store-indexeddb/examples/reload_bench.rs` becomes a
/// page through wasm-bindgen, and `store-indexeddb/bench/reload.mjs` serves it on loopback and
/// reloads it in Chromium with the e2e suite's Playwright, in the test namespace; every `BENCH`
/// line it prints is one figure.
fn storage_reload() -> anyhow::Result<Vec<String>> {
    let root = project_root();
    let build = [
        "build",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "-p",
        "store-indexeddb",
        "--features",
        "browser-bench",
        "--example",
        "reload_bench",
    ];
    util::run(util::command("cargo").args(build))?;
    let wasm = target_dir().join("wasm32-unknown-unknown/wasm-release/examples/reload_bench.wasm");
    let page = target_dir().join("storage-reload-page");
    let mut bindgen = util::command("wasm-bindgen");
    bindgen.args(["--target", "web", "--no-typescript", "--out-dir"]).arg(&page).arg(&wasm);
    util::run(&mut bindgen)?;
    let harness = root.join("store-indexeddb").join("bench");
    std::fs::copy(harness.join("reload.html"), page.join("reload.html")).context("cannot copy the reload page")?;
    let script = harness.join("reload.mjs");
    let e2e = root.join("e2e");
    let paths = [&script, &page, &e2e].map(|path| path.to_str().map(str::to_owned));
    let [Some(script), Some(page), Some(e2e)] = paths else {
        bail!("the storage reload benchmark needs UTF-8 paths");
    };
    let (success, output) = util::run_capturing(&mut netns::command("node", &[&script, &page, &e2e]));
    if !success {
        bail!("the storage reload benchmark failed");
    }
    Ok(bench_lines(&output))
}

/// The webrtc suite's figures of the whole app: Playwright's `e2e/bench/` specs (relay dial to a
/// direct link between two app contexts, round trips of the app's connection check) against the
/// release PWA and a release platform process, in the test namespace.
fn webrtc_in_app() -> anyhow::Result<Vec<String>> {
    run::build_pwa()?;
    util::run(util::command("cargo").args(["build", "--quiet", "--release", "-p", "platform"]))?;
    let root = project_root();
    let mut command = netns::command("npx", &["playwright", "test", "--config", "bench.config.ts"]);
    command
        .current_dir(root.join("e2e"))
        .env("PLATFORM_BIN", target_dir().join("release").join("platform"))
        .env("DIST_DIR", root.join("dist"));
    let (success, output) = util::run_capturing(&mut command);
    if !success {
        bail!("the app's webrtc benchmark failed");
    }
    Ok(bench_lines(&output))
}

/// The PWA as `cargo xtask run` builds it (Trunk, release, into dist/), and what a browser
/// downloads of it: every wasm and JS file, raw and gzip at its best level, against the design's
/// 450 KB gzip for the whole app.
fn app_size() -> anyhow::Result<Vec<String>> {
    run::build_pwa()?;
    let (mut wasm, mut js) = ([0u64; 2], [0u64; 2]);
    for entry in std::fs::read_dir(project_root().join("dist")).context("cannot read dist/")? {
        let path = entry?.path();
        let total = match path.extension().and_then(|extension| extension.to_str()) {
            Some("wasm") => &mut wasm,
            Some("js") => &mut js,
            _ => continue,
        };
        total[0] += std::fs::metadata(&path)?.len();
        total[1] += gzip_len(&path)?;
    }
    let figure = |name: &str, bytes: u64| format!(r#"{{"name":"{name}","value":{bytes},"unit":"bytes"}}"#);
    Ok(vec![
        figure("app_wasm", wasm[0]),
        figure("app_wasm_gzip", wasm[1]),
        figure("app_js", js[0]),
        figure("app_js_gzip", js[1]),
        figure("app_total_gzip", wasm[1] + js[1]),
        figure("app_total_gzip_target", 450_000),
    ])
}

/// The gzip (`--best`) size of a file; gzip is on every Debian system, so no crate is added here.
fn gzip_len(path: &Path) -> anyhow::Result<u64> {
    let output = util::command("gzip").arg("--best").arg("--stdout").arg(path).output().context("cannot run gzip")?;
    if !output.status.success() {
        bail!("gzip failed on {}", path.display());
    }
    Ok(output.stdout.len() as u64)
}

/// The JSON objects of the `BENCH {json}` lines in a browser benchmark's output.
fn bench_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("BENCH "))
        .map(str::trim)
        .filter(|json| json.starts_with('{') && json.ends_with('}'))
        .map(str::to_owned)
        .collect()
}

/// The estimate of every benchmark below criterion's output directory.
fn criterion_estimates(dir: &Path) -> anyhow::Result<Vec<Estimate>> {
    let mut found = Vec::new();
    visit(dir, &mut |path| {
        if path.ends_with("new/estimates.json") {
            let benchmark = std::fs::read_to_string(path.with_file_name("benchmark.json")).unwrap_or_default();
            let id = json_string_field(&benchmark, "full_id");
            let mean = std::fs::read_to_string(path).ok().and_then(|text| mean_point_estimate(&text));
            if let (Some(id), Some(mean_ns)) = (id, mean) {
                found.push(Estimate { id, mean_ns, elements: throughput_elements(&benchmark) });
            }
        }
    })?;
    found.sort_by(|a, b| a.id.cmp(&b.id));
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

/// The `"throughput":{"Elements":N}` of criterion's benchmark.json.
fn throughput_elements(benchmark: &str) -> Option<u64> {
    let key = "\"Elements\":";
    let rest = &benchmark[benchmark.find(key)? + key.len()..];
    rest.split([',', '}']).next()?.trim().parse().ok()
}

fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":\"");
    let rest = &json[json.find(&key)? + key.len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

fn suite_json(suite: &str, estimates: &[Estimate], figures: Option<&str>, browser: &[String]) -> String {
    let mut json = format!("{{\n  \"suite\": \"{suite}\",\n  \"benchmarks\": {{");
    for (index, Estimate { id, mean_ns, elements }) in estimates.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        let per_second = if *mean_ns > 0.0 { 1e9 / mean_ns } else { 0.0 };
        let _ = write!(json, "{separator}\n    \"{id}\": {{ \"mean_ns\": {mean_ns:.1}, \"per_second\": {per_second:.1}");
        if let Some(elements) = elements {
            let per_second = per_second * *elements as f64;
            let _ = write!(json, ", \"elements_per_iteration\": {elements}, \"elements_per_second\": {per_second:.1}");
        }
        json.push_str(" }");
    }
    let _ = write!(json, "\n  }},\n  \"figures\": {},\n  \"browser\": [", figures.map(str::trim).unwrap_or("null"));
    for (index, figure) in browser.iter().enumerate() {
        let separator = if index == 0 { "" } else { "," };
        let _ = write!(json, "{separator}\n    {figure}");
    }
    json.push_str(if browser.is_empty() { "]\n}\n" } else { "\n  ]\n}\n" });
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_output() {
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5,"standard_error":0.1},"median":{"point_estimate":9.0}}"#;
        assert_eq!(mean_point_estimate(estimates), Some(2.5));
        let benchmark = r#"{"group_id":"g","value_str":null,"throughput":{"Elements":1000},"full_id":"g/f"}"#;
        assert_eq!(json_string_field(benchmark, "full_id").as_deref(), Some("g/f"));
        assert_eq!(throughput_elements(benchmark), Some(1000));
        assert_eq!(throughput_elements(r#"{"throughput":null}"#), None);
    }

    #[test]
    fn writes_suite_json() {
        let output = "running 1 test\nBENCH {\"name\":\"wasm/x\",\"value\":2.5}\nBENCH oops\ntest x ... ok\n";
        let browser = bench_lines(output);
        assert_eq!(browser, vec!["{\"name\":\"wasm/x\",\"value\":2.5}".to_owned()]);
        let estimates = [
            Estimate { id: "verify/strict".to_owned(), mean_ns: 250_000.0, elements: None },
            Estimate { id: "upload".to_owned(), mean_ns: 50_000_000.0, elements: Some(1000) },
        ];
        let json = suite_json("crypto", &estimates, Some("{\"qr\": 1}\n"), &browser);
        assert!(json.contains("\"verify/strict\": { \"mean_ns\": 250000.0, \"per_second\": 4000.0 }"), "{json}");
        let upload = "\"upload\": { \"mean_ns\": 50000000.0, \"per_second\": 20.0, \"elements_per_iteration\": 1000, \"elements_per_second\": 20000.0 }";
        assert!(json.contains(upload), "{json}");
        assert!(json.contains("\"figures\": {\"qr\": 1},"), "{json}");
        assert!(json.contains("\"browser\": [\n    {\"name\":\"wasm/x\",\"value\":2.5}\n  ]"), "{json}");
    }
}
