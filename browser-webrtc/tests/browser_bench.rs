//! Browser benchmark of the direct link (headless Chromium in the test network namespace; two
//! swarms in one page joined out of band, so no relay and no external process). Prints one
//! console line per figure, `BENCH {"name":…,"value":…,"unit":…}`; run the test binary with
//! `--nocapture` to see them. Figures come from this run, never from assertions.
#![cfg(target_family = "wasm")]

mod common;

use common::{ECHO, MESSAGE_LEN, Node, join, message, now_ms, round_trips};
use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const ROUND_TRIPS: u32 = 1000;
const PIPELINED: u32 = 10_000;

fn report(name: &str, value: f64, unit: &str) {
    let line = format!(r#"BENCH {{"name":"{name}","value":{value:.3},"unit":"{unit}"}}"#);
    wasm_bindgen_test::console_log!("{line}");
}

/// The `q` quantile (0..=1) of `times`, nearest rank.
fn quantile(times: &mut [f64], q: f64) -> f64 {
    times.sort_by(f64::total_cmp);
    let rank = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len());
    times[rank - 1]
}

/// Messages echoed per second when `count` are written without waiting for their echoes.
async fn pipelined_rate(a: &mut Node, b: &Node, count: u32) -> f64 {
    let stream = a.control.open_stream(b.peer, ECHO).await.unwrap();
    let (mut reader, mut writer) = stream.split();
    let started = now_ms();
    let write = async {
        for i in 0..count {
            writer.write_all(&message(9, i)).await.unwrap();
        }
        writer.close().await.unwrap();
    };
    let read = async {
        let mut echo = [0u8; MESSAGE_LEN];
        for i in 0..count {
            reader.read_exact(&mut echo).await.unwrap();
            assert_eq!(echo, message(9, i), "echo of message {i}");
        }
    };
    futures::join!(write, read);
    f64::from(count) / ((now_ms() - started) / 1000.0)
}

#[wasm_bindgen_test]
async fn direct_link_figures() {
    let (mut a, mut b) = (Node::new(11), Node::new(12));
    let started = now_ms();
    join(&mut a, &mut b).await;
    let first = round_trips(&mut a, b.peer, 1, 1).await;
    assert_eq!(first.len(), 1);
    report("webrtc_oob_dial_to_first_byte", now_ms() - started, "ms");

    let mut times = round_trips(&mut a, b.peer, 2, ROUND_TRIPS).await;
    report("webrtc_rtt_p50", quantile(&mut times, 0.50), "ms");
    report("webrtc_rtt_p99", quantile(&mut times, 0.99), "ms");
    let rate = pipelined_rate(&mut a, &b, PIPELINED).await;
    report("webrtc_messages_per_s", rate, "msg/s");
}
