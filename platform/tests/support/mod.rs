//! Spawning the real platform binary for integration tests, and a small JSON client for it.
#![allow(dead_code, unreachable_pub)]

pub(crate) mod world;

use std::{
    io::{BufRead as _, BufReader, Read as _},
    path::Path,
    process::{Child, ChildStdout, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use crypto::{
    keys::DeviceKey,
    request::{DeviceRegistration, MerchantRegistration, Order, SignedRequest},
};
use serde_json::{Value, json};

/// The operator token the tests configure.
pub(crate) const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

/// The relay's listen options the tests give: free ports on loopback, one address each.
const RELAY_PORT_ZERO: [&str; 4] = ["--relay-ws-listen", "127.0.0.1:0", "--relay-webrtc-listen", "127.0.0.1:0"];
/// Lines the relay prints with [`RELAY_PORT_ZERO`]: one per listener.
const RELAY_LINES: usize = 2;

/// A running platform process; killed on drop.
pub(crate) struct Platform {
    pub(crate) url: String,
    /// The relay's addresses as printed after the first line (`relay listening on …`).
    pub(crate) relay: Vec<String>,
    child: Child,
    http: reqwest::Client,
}

impl Platform {
    /// Starts the binary on a free port and waits for its "listening" line.
    pub(crate) fn spawn(dist: &Path, data_dir: &Path) -> Self {
        Self::spawn_with(dist, data_dir, &[])
    }

    /// Starts the binary with the operator token configured (through the environment).
    pub(crate) fn spawn_operated(dist: &Path, data_dir: &Path) -> Self {
        Self::spawn_with(dist, data_dir, &[("PLATFORM_OPERATOR_TOKEN", OPERATOR_TOKEN)])
    }

    /// Starts the binary with extra arguments (after the defaults, so they win).
    pub(crate) fn spawn_with_args(dist: &Path, data_dir: &Path, args: &[&str]) -> Self {
        Self::spawn_full(dist, data_dir, &[], args)
    }

    fn spawn_with(dist: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn_full(dist, data_dir, env, &[])
    }

    fn spawn_full(dist: &Path, data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_platform"));
        command
            .args(["--listen", "127.0.0.1:0", "--dist"])
            .arg(dist)
            .arg("--data-dir")
            .arg(data_dir)
            .args(RELAY_PORT_ZERO)
            .args(args)
            .env_remove("PLATFORM_OPERATOR_TOKEN")
            .env_remove("PLATFORM_OTHER_RELAYS")
            .stdout(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("platform binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let line = read_line(&mut stdout);
        let url = line
            .strip_prefix("platform listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        let relay = relay_lines(&mut stdout, RELAY_LINES);
        drain(stdout);
        Self { url, relay, child, http: reqwest::Client::new() }
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    pub(crate) fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit status.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        terminate(&mut self.child)
    }

    /// GET `path`; returns the status and the JSON body (`null` if the body is not JSON).
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        into_json(self.http.get(format!("{}{path}", self.url)).send().await.expect("GET is answered")).await
    }

    /// POST a JSON body.
    pub(crate) async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        into_json(self.http.post(format!("{}{path}", self.url)).json(body).send().await.expect("POST is answered")).await
    }

    /// POST a JSON body with the operator token.
    pub(crate) async fn operator_post(&self, path: &str, body: &Value) -> (u16, Value) {
        let request = self.http.post(format!("{}{path}", self.url)).bearer_auth(OPERATOR_TOKEN).json(body);
        into_json(request.send().await.expect("POST is answered")).await
    }

    /// GET with the operator token.
    pub(crate) async fn operator_get(&self, path: &str) -> (u16, Value) {
        let request = self.http.get(format!("{}{path}", self.url)).bearer_auth(OPERATOR_TOKEN);
        into_json(request.send().await.expect("GET is answered")).await
    }

    /// POST raw bytes with a content type.
    pub(crate) async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut request = self.http.post(format!("{}{path}", self.url)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        into_json(request.send().await.expect("POST is answered")).await
    }
}

/// A running `platform relay` process; killed on drop.
pub(crate) struct RelayProcess {
    /// Its addresses, as printed.
    pub(crate) addresses: Vec<String>,
    child: Child,
}

impl RelayProcess {
    /// Starts `platform relay` on free loopback ports and reads its address lines.
    pub(crate) fn spawn(data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_platform"))
            .arg("relay")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--ws-listen", "127.0.0.1:0", "--webrtc-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("platform binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let addresses = relay_lines(&mut stdout, RELAY_LINES);
        drain(stdout);
        Self { addresses, child }
    }

    /// Sends SIGTERM and returns the exit status.
    pub(crate) fn terminate(mut self) -> ExitStatus {
        terminate(&mut self.child)
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a run of the binary that is expected to stop on its own left behind.
pub(crate) struct Exited {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs the binary with `args` and waits (at most 20 s, then kills it and fails) for it to exit.
pub(crate) fn run_to_exit(args: &[&std::ffi::OsStr]) -> Exited {
    let mut child = Command::new(env!("CARGO_BIN_EXE_platform"))
        .args(args)
        .env_remove("PLATFORM_OPERATOR_TOKEN")
        .env_remove("PLATFORM_OTHER_RELAYS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("platform binary starts");
    let (mut out, mut err) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let stdout = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait works") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("platform {args:?} did not exit; stderr: {}", stderr.join().unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Exited { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

fn read_line(stdout: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    stdout.read_line(&mut line).expect("the process prints a line");
    line.trim_end().to_owned()
}

/// Reads `count` lines `relay listening on <multiaddr>`; returns the addresses.
fn relay_lines(stdout: &mut BufReader<ChildStdout>, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let line = read_line(stdout);
            line.strip_prefix("relay listening on ").unwrap_or_else(|| panic!("not a relay line: {line:?}")).to_owned()
        })
        .collect()
}

/// Keeps the pipe open and drained for as long as the process lives.
fn drain(mut stdout: BufReader<ChildStdout>) {
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
}

fn terminate(child: &mut Child) -> ExitStatus {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    child.wait().expect("the process exits")
}

async fn into_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bytes as the API writes them: unpadded base64url.
pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes an API base64url string field.
pub(crate) fn unb64(value: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(value.as_str().expect("a base64url string")).expect("valid base64url")
}

/// Unix seconds now.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs()
}

/// The signature of `request` by `signer`, as the API takes it. Every test signs its registrations
/// and orders through here (by way of the `*_body` functions), with `crypto::request`'s bytes.
fn signature<R: SignedRequest>(request: &R, signer: &DeviceKey) -> String {
    b64(&request.sign(signer).to_bytes())
}

/// The body of `POST /api/devices`, signed by `signer` (the device's own key unless a test forges).
pub(crate) fn device_body(registration: &DeviceRegistration, signer: &DeviceKey) -> Value {
    json!({
        "public_key": b64(&registration.public_key.to_bytes()),
        "display_name": registration.display_name,
        "signature": signature(registration, signer),
    })
}

/// The body of `POST /api/merchants`, signed by `signer`.
pub(crate) fn merchant_body(registration: &MerchantRegistration, signer: &DeviceKey) -> Value {
    json!({
        "brand": registration.brand.0,
        "public_key": b64(&registration.public_key.to_bytes()),
        "name": registration.name,
        "signature": signature(registration, signer),
    })
}

/// The body of `POST /api/gifts`, signed by `signer` (the buyer unless a test forges).
pub(crate) fn order_body(order: &Order, signer: &DeviceKey) -> Value {
    json!({
        "order_id": b64(&order.order_id),
        "sku": order.sku,
        "buyer": b64(&order.buyer.to_bytes()),
        "recipient": b64(&order.recipient.to_bytes()),
        "signature": signature(order, signer),
    })
}
