//! The trust list signed offline, over real processes: `platform root generate` and `platform
//! root sign-trust-list` on the "offline machine" (a directory the platform never sees), `platform
//! public-keys` on the server, then the platform started with `--root-public-key` and
//! `--trust-list`, which publishes that list and refuses to start with one that does not fit.

mod support;

use std::{ffi::OsStr, path::Path};

use crypto::{keys::PublicKey, request::DeviceRegistration, trust::VerifiedTrustList, voucher::Voucher};
use rand_core::OsRng;
use support::{Exited, Platform, device_body, order_body, run_to_exit, unb64};

/// Runs `platform ARGS…` to its end.
fn platform(args: &[&str]) -> Exited {
    run_to_exit(&args.iter().map(OsStr::new).collect::<Vec<_>>())
}

/// The value after `prefix` on the first line that starts with it.
fn line_value<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines().find_map(|line| line.strip_prefix(prefix)).unwrap_or_else(|| panic!("no `{prefix}` line in {text}"))
}

/// `platform root generate`: the new root's public key.
fn generate_root(path: &Path) -> String {
    let generated = platform(&["root", "generate", "--root-key", path.to_str().unwrap()]);
    assert!(generated.status.success(), "{}", generated.stderr);
    line_value(&generated.stdout, "root public key ").to_owned()
}

/// `platform public-keys`: this data directory's issuer and platform keys.
fn public_keys(data: &Path) -> (String, String) {
    let printed = platform(&["public-keys", "--data-dir", data.to_str().unwrap()]);
    assert!(printed.status.success(), "{}", printed.stderr);
    (line_value(&printed.stdout, "issuer ").to_owned(), line_value(&printed.stdout, "platform ").to_owned())
}

/// `platform root sign-trust-list` with `extra` arguments, writing `out`.
fn sign(root_key: &Path, out: &Path, extra: &[&str]) -> Exited {
    let mut args = vec!["root", "sign-trust-list", "--root-key", root_key.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    platform(&args)
}

/// Starts the platform on `data` with `root` and `list`; it is expected to refuse.
fn refused_start(data: &Path, root: &str, list: &Path) -> Exited {
    let dist = tempfile::tempdir().unwrap();
    let (dist, data, list) = (dist.path().to_str().unwrap(), data.to_str().unwrap(), list.to_str().unwrap());
    let exited = platform(&[
        "--listen", "127.0.0.1:0", "--dist", dist, "--data-dir", data, "--relay-ws-listen", "127.0.0.1:0",
        "--relay-webrtc-listen", "127.0.0.1:0", "--root-public-key", root, "--trust-list", list,
    ]);
    assert!(!exited.status.success(), "started: {}", exited.stdout);
    assert!(!exited.stdout.contains("platform listening"), "{}", exited.stdout);
    exited
}

#[tokio::test]
async fn a_list_signed_offline_is_published_and_vouchers_are_issued_within_its_scope() {
    let (offline, data, dist) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let root_key = offline.path().join("root.key");
    let root = generate_root(&root_key);
    let (issuer, platform_key) = public_keys(data.path());
    let list_path = offline.path().join("trust-list.bin");
    // The issuer may sign for the coffee brand (1) only.
    let coffee_only = format!("{issuer}:1");
    let signed = sign(&root_key, &list_path, &["--issuer", &coffee_only, "--platform", &platform_key, "--valid-to", "2099-01-01T00:00:00Z"]);
    assert!(signed.status.success(), "{}", signed.stderr);
    assert!(signed.stdout.contains(&format!("issuer {issuer} brands 1 valid ")), "{}", signed.stdout);
    assert!(signed.stdout.contains("to 2099-01-01T00:00:00Z"), "{}", signed.stdout);

    let server = Platform::spawn_with_args(
        dist.path(),
        data.path(),
        &["--root-public-key", &root, "--trust-list", list_path.to_str().unwrap()],
    );
    assert!(!data.path().join("keys/root.key").exists(), "no root key on the server");
    let (status, body) = server.get("/api/trust-list").await;
    assert_eq!(status, 200, "{body}");
    let file = std::fs::read(&list_path).unwrap();
    assert_eq!(unb64(&body["list"]), file, "the platform publishes the file as signed");
    assert_eq!(body["root_key"], root.as_str());
    let root = PublicKey::from_bytes(&unb64(&body["root_key"]).try_into().unwrap()).unwrap();
    let trust = VerifiedTrustList::from_bytes(&file, &root).unwrap();

    let (buyer, recipient) = (crypto::keys::DeviceKey::generate(&mut OsRng), crypto::keys::DeviceKey::generate(&mut OsRng));
    for (key, name) in [(&buyer, "김민지"), (&recipient, "이서준")] {
        let registration = DeviceRegistration { public_key: key.public(), display_name: name.into() };
        let (status, answer) = server.post("/api/devices", &device_body(&registration, key)).await;
        assert_eq!(status, 201, "{answer}");
    }
    let order = |order_id: u8, sku: u32| crypto::request::Order {
        order_id: [order_id; 16],
        sku,
        buyer: buyer.public(),
        recipient: recipient.public(),
    };
    let (status, answer) = server.post("/api/gifts", &order_body(&order(1, 1001), &buyer)).await;
    assert_eq!(status, 201, "{answer}");
    let voucher = Voucher::from_bytes(&unb64(&answer["voucher"])).unwrap();
    let listed = trust.issuers_with_kid(voucher.kid()).next().expect("the voucher's issuer is in the list");
    assert_eq!(voucher.verify_issuer(&listed.key), Ok(()));
    // 조각 케이크 is brand 2: outside the issuer's scope, so merchants would refuse it.
    let (status, answer) = server.post("/api/gifts", &order_body(&order(2, 2001), &buyer)).await;
    assert_eq!((status, answer["error"].as_str()), (503, Some("unavailable")), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("trust list"), "{answer}");
}

#[test]
fn the_platform_refuses_a_list_that_does_not_verify_omits_its_keys_or_has_expired() {
    let (offline, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (root_key, other_root_key) = (offline.path().join("root.key"), offline.path().join("other-root.key"));
    let root = generate_root(&root_key);
    generate_root(&other_root_key);
    let (issuer, platform_key) = public_keys(data.path());
    let keys = ["--issuer", &issuer, "--platform", &platform_key];
    let until_2099 = [&keys[..], &["--valid-to", "2099-01-01T00:00:00Z"]].concat();

    let by_other_root = offline.path().join("other-root.bin");
    assert!(sign(&other_root_key, &by_other_root, &until_2099).status.success());
    let refused = refused_start(data.path(), &root, &by_other_root);
    assert!(refused.stderr.contains("does not verify under the root public key"), "{}", refused.stderr);

    let (_, other_issuer) = public_keys(tempfile::tempdir().unwrap().path());
    let other_keys = ["--issuer", &other_issuer, "--platform", &platform_key, "--valid-to", "2099-01-01T00:00:00Z"];
    let without_own_issuer = offline.path().join("other-issuer.bin");
    assert!(sign(&root_key, &without_own_issuer, &other_keys).status.success());
    let refused = refused_start(data.path(), &root, &without_own_issuer);
    assert!(refused.stderr.contains(&format!("does not list this platform's issuer key {issuer}")), "{}", refused.stderr);

    let expired = offline.path().join("expired.bin");
    let window = ["--valid-from", "2020-01-01T00:00:00Z", "--valid-to", "2021-01-01T00:00:00Z"];
    assert!(sign(&root_key, &expired, &[&keys[..], &window].concat()).status.success());
    let refused = refused_start(data.path(), &root, &expired);
    assert!(refused.stderr.contains("the trust list has expired"), "{}", refused.stderr);
    assert!(refused.stderr.contains("valid until 2021-01-01T00:00:00Z"), "{}", refused.stderr);

    let missing = offline.path().join("missing.bin");
    let refused = refused_start(data.path(), &root, &missing);
    assert!(refused.stderr.contains("cannot read the trust list"), "{}", refused.stderr);
    // Nothing was signed with a root on the server, nor left half-written offline.
    assert!(!data.path().join("keys/root.key").exists());
}

#[test]
fn root_commands_keep_keys_and_lists_and_check_their_input() {
    let offline = tempfile::tempdir().unwrap();
    let root_key = offline.path().join("root.key");
    let root = generate_root(&root_key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&root_key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = platform(&["root", "generate", "--root-key", root_key.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    let out = offline.path().join("list.bin");
    let inverted = sign(&root_key, &out, &["--issuer", &root, "--platform", &root, "--valid-from", "2030-01-01T00:00:00Z", "--valid-to", "2029-01-01T00:00:00Z"]);
    assert!(!inverted.status.success());
    assert!(inverted.stderr.contains("--valid-to"), "{}", inverted.stderr);
    let bad_key = sign(&root_key, &out, &["--issuer", "not-a-key", "--platform", &root, "--valid-to", "2099-01-01T00:00:00Z"]);
    assert!(!bad_key.status.success());
    assert!(bad_key.stderr.contains("--issuer"), "{}", bad_key.stderr);
    let bad_time = sign(&root_key, &out, &["--issuer", &root, "--platform", &root, "--valid-to", "next year"]);
    assert!(bad_time.stderr.contains("RFC 3339"), "{}", bad_time.stderr);
    assert!(!out.exists(), "no list written for refused input");

    assert!(sign(&root_key, &out, &["--issuer", &root, "--platform", &root, "--valid-to", "2099-01-01T00:00:00Z"]).status.success());
    let first = std::fs::read(&out).unwrap();
    let twice = sign(&root_key, &out, &["--issuer", &root, "--platform", &root, "--valid-to", "2098-01-01T00:00:00Z"]);
    assert!(!twice.status.success(), "an existing list is never replaced");
    assert_eq!(std::fs::read(&out).unwrap(), first);

    let alone = platform(&["--root-public-key", &root]);
    assert!(!alone.status.success());
    assert!(alone.stderr.contains("--trust-list"), "{}", alone.stderr);
    let both = platform(&["--root-key", root_key.to_str().unwrap(), "--root-public-key", &root, "--trust-list", "x"]);
    assert!(!both.status.success());
    assert!(both.stderr.contains("cannot be used with"), "{}", both.stderr);
}

/// base64url has `-` among its digits, so one key in 64 prints with a leading `-`, which must still
/// be read as the option's value, not as another option.
#[test]
fn keys_printed_with_a_leading_hyphen_are_taken_as_values() {
    let key = (0u8..=255)
        .map(|byte| crypto::keys::DeviceKey::from_seed(&[byte; 32]).public())
        .find(|key| support::b64(&key.to_bytes()).starts_with('-'))
        .unwrap();
    let dashed = support::b64(&key.to_bytes());
    let offline = tempfile::tempdir().unwrap();
    let root_key = offline.path().join("root.key");
    let root = generate_root(&root_key);
    let root = PublicKey::from_bytes(&unb64(&root.as_str().into()).try_into().unwrap()).unwrap();
    let out = offline.path().join("list.bin");
    let signed = sign(&root_key, &out, &["--issuer", &dashed, "--platform", &dashed, "--valid-to", "2099-01-01T00:00:00Z"]);
    assert!(signed.status.success(), "{}", signed.stderr);
    let trust = VerifiedTrustList::from_bytes(&std::fs::read(&out).unwrap(), &root).unwrap();
    assert_eq!(trust.list().issuers[0].key, key);
    assert_eq!(trust.list().platform[0].key, key);
    let refused = platform(&["--root-public-key", &dashed]);
    assert!(refused.stderr.contains("--trust-list"), "read as the key, then missing its list: {}", refused.stderr);
}

#[test]
fn help_documents_the_offline_root() {
    let help = platform(&["--help"]);
    for option in ["--root-public-key", "--trust-list", "PLATFORM_ROOT_PUBLIC_KEY", "PLATFORM_TRUST_LIST", "public-keys", "root"] {
        assert!(help.stdout.contains(option), "--help lacks {option}:\n{}", help.stdout);
    }
    let help = platform(&["root", "sign-trust-list", "--help"]);
    for option in ["--root-key", "--issuer", "--platform", "--valid-from", "--valid-to", "--out", "RFC 3339"] {
        assert!(help.stdout.contains(option), "sign-trust-list --help lacks {option}:\n{}", help.stdout);
    }
}
