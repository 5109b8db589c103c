//! The platform serves the PWA with the right types, caching and security headers.

mod support;

use std::fs;

use support::Platform;

const HASHED_JS: &str = "app-0123456789abcdef.js";
const HASHED_WASM: &str = "app-0123456789abcdef_bg.wasm";

fn dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    fs::write(dist.path().join("index.html"), "<!doctype html><title>앱</title>").unwrap();
    fs::write(dist.path().join(HASHED_JS), "export default 1;").unwrap();
    fs::write(dist.path().join(HASHED_WASM), b"\0asm\x01\0\0\0").unwrap();
    fs::write(dist.path().join("sw.js"), "self.addEventListener('fetch', () => {});").unwrap();
    fs::write(dist.path().join("manifest.webmanifest"), "{}").unwrap();
    dist
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

#[tokio::test]
async fn serves_index_and_assets_with_the_right_headers() {
    let (dist, data) = (dist(), tempfile::tempdir().unwrap());
    let platform = Platform::spawn(dist.path(), data.path());
    let get = |path: &str| reqwest::get(format!("{}{path}", platform.url));

    let index = get("/").await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(header(&index, "content-type").starts_with("text/html"));
    assert_eq!(header(&index, "cache-control"), "no-cache");
    let csp = header(&index, "content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("'wasm-unsafe-eval'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&index, "x-content-type-options"), "nosniff");
    assert!(index.text().await.unwrap().contains("앱"));

    for (path, content_type) in [(HASHED_JS, "text/javascript"), (HASHED_WASM, "application/wasm")] {
        let asset = get(&format!("/{path}")).await.unwrap();
        assert_eq!(asset.status(), 200, "{path}");
        assert_eq!(header(&asset, "content-type"), content_type, "{path}");
        assert_eq!(header(&asset, "cache-control"), "public, max-age=31536000, immutable", "{path}");
    }

    let worker = get("/sw.js").await.unwrap();
    assert_eq!(header(&worker, "content-type"), "text/javascript");
    assert_eq!(header(&worker, "cache-control"), "no-cache");

    let manifest = get("/manifest.webmanifest").await.unwrap();
    assert_eq!(header(&manifest, "content-type"), "application/manifest+json");
}

/// The service worker and index.html are revalidated by a hash of their content: a deployment
/// whose files carry an older or equal modification time is still served as new.
#[tokio::test]
async fn revalidation_follows_content_not_modification_time() {
    let (dist, data) = (dist(), tempfile::tempdir().unwrap());
    let platform = Platform::spawn(dist.path(), data.path());
    let client = reqwest::Client::new();
    let get = |etag: &str| client.get(format!("{}/sw.js", platform.url)).header("if-none-match", etag).send();

    let first = get("\"none\"").await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "last-modified"), "");
    let etag = header(&first, "etag");
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    let unchanged = get(&etag).await.unwrap();
    assert_eq!(unchanged.status(), 304);
    assert_eq!(header(&unchanged, "etag"), etag);
    assert_eq!(header(&unchanged, "cache-control"), "no-cache");
    let weak = get(&format!("\"other\", W/{etag}")).await.unwrap();
    assert_eq!(weak.status(), 304);

    // A new deployment, its file dated in the past (as `cp -p` or an unpacked archive leaves it).
    let worker = dist.path().join("sw.js");
    fs::write(&worker, "self.addEventListener('install', () => {});").unwrap();
    fs::File::options().write(true).open(&worker).unwrap().set_modified(std::time::UNIX_EPOCH).unwrap();
    let modified_since = client
        .get(format!("{}/sw.js", platform.url))
        .header("if-modified-since", "Sun, 22 Nov 2026 08:55:24 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(modified_since.status(), 200);
    let changed = get(&etag).await.unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, "etag"), etag);
    assert_eq!(changed.text().await.unwrap(), "self.addEventListener('install', () => {});");
}

#[tokio::test]
async fn app_routes_get_index_and_missing_files_get_404() {
    let (dist, data) = (dist(), tempfile::tempdir().unwrap());
    let platform = Platform::spawn(dist.path(), data.path());
    let route = reqwest::get(format!("{}/wallet", platform.url)).await.unwrap();
    assert_eq!(route.status(), 200);
    assert_eq!(header(&route, "cache-control"), "no-cache");
    assert!(route.text().await.unwrap().contains("앱"));
    let missing = reqwest::get(format!("{}/app-ffffffffffffffff.js", platform.url)).await.unwrap();
    assert_eq!(missing.status(), 404);
    let api = reqwest::get(format!("{}/api/nothing-here", platform.url)).await.unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(header(&api, "content-type"), "application/json");
}

#[tokio::test]
async fn health_reports_ok_uncached() {
    let (dist, data) = (dist(), tempfile::tempdir().unwrap());
    let platform = Platform::spawn(dist.path(), data.path());
    let health = reqwest::get(format!("{}/api/health", platform.url)).await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(header(&health, "cache-control"), "no-store");
    assert_eq!(health.text().await.unwrap(), r#"{"status":"ok"}"#);
    assert!(data.path().join("platform.sqlite3").is_file());
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let (dist, data) = (dist(), tempfile::tempdir().unwrap());
    let platform = Platform::spawn(dist.path(), data.path());
    assert!(platform.terminate().success());
}

#[test]
fn help_documents_every_option() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_platform")).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let options = [
        "--listen",
        "--data-dir",
        "--dist",
        "--operator-token",
        "--root-key",
        "--issuer-key",
        "--platform-key",
        "PLATFORM_LISTEN",
        "PLATFORM_DATA_DIR",
        "PLATFORM_DIST",
        "PLATFORM_OPERATOR_TOKEN",
        "PLATFORM_ROOT_KEY",
        "PLATFORM_ISSUER_KEY",
        "PLATFORM_PLATFORM_KEY",
    ];
    for option in options {
        assert!(help.contains(option), "--help lacks {option}:\n{help}");
    }
}
