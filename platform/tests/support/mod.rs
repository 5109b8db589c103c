//! Spawning the real platform binary for integration tests, and a small JSON client for it.
#![allow(dead_code, unreachable_pub)]

pub(crate) mod world;

use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;

/// The operator token the tests configure.
pub(crate) const OPERATOR_TOKEN: &str = "test-operator-token-0123456789";

/// A running platform process; killed on drop.
pub(crate) struct Platform {
    pub(crate) url: String,
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

    fn spawn_with(dist: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_platform"));
        command
            .args(["--listen", "127.0.0.1:0", "--dist"])
            .arg(dist)
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("PLATFORM_OPERATOR_TOKEN")
            .stdout(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("platform binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        stdout.read_line(&mut line).expect("platform prints its address");
        // Keep the pipe open and drained for as long as the process lives.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("platform listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Self { url, child, http: reqwest::Client::new() }
    }

    /// Kills the process with SIGKILL (no chance to clean up) and waits for it.
    pub(crate) fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("platform exits")
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
