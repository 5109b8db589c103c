//! A text as a QR code for the other device's camera, drawn as one SVG path (the `qrcodegen` crate
//! encodes; nothing rasterised, so it stays sharp at any size).

use leptos::prelude::*;
use qrcodegen::{QrCode, QrCodeEcc, QrSegment, Version};

use crate::locale::Locale;

/// Light modules around the symbol, as the QR standard asks, so cameras find its edges.
const QUIET_ZONE: usize = 4;
/// Shown size, CSS pixels: about 3.7 px per module for the out-of-band texts (versions 10 and 11).
const SIDE_PX: u32 = 256;

/// `text`'s QR code at level M (as the vouchers use): the dark modules as SVG path data, one
/// rectangle per horizontal run, in a square of the returned side (modules, quiet zone
/// included); `None` if the text is too long for any QR code.
pub fn qr_path(text: &str) -> Option<(String, usize)> {
    let segments = QrSegment::make_segments(text);
    // Level M exactly: no raising it where the same version would hold more correction.
    let code = QrCode::encode_segments_advanced(&segments, QrCodeEcc::Medium, Version::MIN, Version::MAX, None, false)
        .ok()?;
    let width = code.size();
    let mut path = String::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            let run = (x..width).take_while(|&x| code.get_module(x, y)).count() as i32;
            if run > 0 {
                path.push_str(&format!("M{} {}h{run}v1h-{run}z", x as usize + QUIET_ZONE, y as usize + QUIET_ZONE));
            }
            x += run.max(1);
        }
    }
    Some((path, width as usize + 2 * QUIET_ZONE))
}

/// The QR code of `text`, or a note that it is too long for one.
#[component]
pub fn QrCodeImage(text: String, test_id: &'static str) -> impl IntoView {
    let locale = expect_context::<Locale>();
    match qr_path(&text) {
        Some((path, side)) => view! {
            <svg
                class="qr-code"
                data-testid=test_id
                role="img"
                aria-label=move || locale.strings().qr_label
                width=SIDE_PX
                height=SIDE_PX
                viewBox=format!("0 0 {side} {side}")
                shape-rendering="crispEdges"
            >
                <rect width=side height=side fill="#fff"></rect>
                <path d=path fill="#000"></path>
            </svg>
        }
        .into_any(),
        None => view! { <p data-testid=test_id>{move || locale.strings().qr_too_long}</p> }.into_any(),
    }
}
