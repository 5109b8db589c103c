//! Running a browser suite in a private network namespace (TOOLCHAIN.md): Chromium gathers no
//! ICE candidate on loopback, so the namespace gets a veth pair whose address 10.213.0.1 the
//! browsers use; nothing the suite does can leave the machine.
//!
//! The command also gets a TMPDIR of its own, removed when it ends or is interrupted: ChromeDriver
//! starts each browser with a fresh profile in TMPDIR (tens of megabytes) and does not always
//! remove it when the wasm test runner stops it. Left in /tmp they add up to gigabytes over a few
//! test runs.

use std::process::Command;

use crate::util;

/// The test host's address inside the namespace (exported to the suites as TEST_HOST_ADDR).
pub(crate) const HOST_ADDR: &str = "10.213.0.1";

const SETUP: &str = "set -e
ip link set lo up
ip link add veth0 type veth peer name veth1
ip addr add 10.213.0.1/24 dev veth0
ip addr add 10.213.0.2/24 dev veth1
ip link set veth0 up
ip link set veth1 up
ip route add default via 10.213.0.2 dev veth0
TMPDIR=$(mktemp -d)
export TMPDIR
trap 'rm -rf \"$TMPDIR\"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
\"$@\"";

/// `program args...` wrapped to run in a fresh network namespace.
pub(crate) fn command(program: &str, args: &[&str]) -> Command {
    let mut command = util::command("unshare");
    // Without root, a user namespace maps us to root inside it, which may create the veth pair.
    if !util::is_root() {
        command.arg("--map-root-user");
    }
    command.args(["--net", "sh", "-c", SETUP, "sh", program]).args(args).env("TEST_HOST_ADDR", HOST_ADDR);
    command
}

/// `cargo` with `args` running wasm-bindgen tests inside the namespace, in headless Chromium.
/// The runner gives up on a test binary after `WASM_BINDGEN_TEST_TIMEOUT` seconds of wall-clock
/// time, 20 by default: on a cold clone, in a slow phase of the machine, that failed
/// browser-webrtc's swarm tests half-way while every test that ran passed. Tests never fail on
/// time; the limit stays only as a guard against a page that hangs.
pub(crate) fn wasm_tests(args: &[&str]) -> Command {
    let mut command = self::command("cargo", args);
    command.env("CHROMEDRIVER", crate::setup::CHROMEDRIVER).env("WASM_BINDGEN_TEST_TIMEOUT", "900");
    command
}

#[cfg(test)]
mod tests {
    use std::{
        io::{BufRead as _, BufReader},
        os::unix::process::CommandExt as _,
        path::Path,
        process::Stdio,
    };

    use super::command;

    /// What the command leaves in its TMPDIR goes when it ends, and its exit status is kept.
    #[test]
    fn the_command_gets_a_tmpdir_of_its_own_removed_when_it_ends() {
        let script = "touch \"$TMPDIR/profile\" && echo \"$TMPDIR\" && exit 3";
        let output = command("sh", &["-c", script]).output().unwrap();
        assert_eq!(output.status.code(), Some(3));
        let printed = String::from_utf8(output.stdout).unwrap();
        let tmpdir = Path::new(printed.trim());
        assert!(tmpdir.is_absolute() && tmpdir != std::env::temp_dir(), "{printed:?}");
        assert!(!tmpdir.exists());
    }

    /// A CI runner's SIGTERM (like Ctrl-C's SIGINT, which a background run may ignore) reaches
    /// the whole process group; the TMPDIR goes then too.
    #[test]
    fn a_terminated_command_leaves_no_tmpdir() {
        let mut child = command("sh", &["-c", "echo \"$TMPDIR\" && sleep 60"])
            .process_group(0)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut printed = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut printed).unwrap();
        let tmpdir = Path::new(printed.trim());
        assert!(tmpdir.is_dir(), "{printed:?}");
        let group = format!("-{}", child.id());
        assert!(std::process::Command::new("kill").args(["-TERM", "--", &group]).status().unwrap().success());
        assert_eq!(child.wait().unwrap().code(), Some(143));
        assert!(!tmpdir.exists());
    }
}
