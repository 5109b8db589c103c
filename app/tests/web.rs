//! The app in a real browser (headless Chromium via wasm-bindgen-test).

#![cfg(target_family = "wasm")]

use app::{
    i18n::Lang,
    navigation::Page,
    platform_client::{PlatformError, check_health},
};
use gloo::timers::future::TimeoutFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn language_choice_prefers_the_stored_choice_then_the_browser_then_korean() {
    assert_eq!(Lang::choose(None, ["fr-FR", "en-US", "ko"]), Lang::En);
    assert_eq!(Lang::choose(None, ["ko-KR", "en"]), Lang::Ko);
    assert_eq!(Lang::choose(None, ["fr", "de"]), Lang::Ko);
    assert_eq!(Lang::choose(Some("ko"), ["en-GB"]), Lang::Ko);
    assert_eq!(Lang::choose(Some("xx"), ["en_GB"]), Lang::En);
}

#[wasm_bindgen_test]
fn each_path_shows_its_page_and_any_other_the_not_found_page() {
    assert_eq!(Page::at("/"), Page::Chats);
    assert_eq!(Page::at("/wallet"), Page::Wallet);
    assert_eq!(Page::at("/wallet/"), Page::Wallet);
    assert_eq!(Page::at("/merchant"), Page::Merchant);
    assert_eq!(Page::at("/settings"), Page::Settings);
    for other in ["/settings/x", "/no/such/page", "//", "", "/Wallet"] {
        assert_eq!(Page::at(other), Page::NotFound, "{other:?}");
    }
}

#[wasm_bindgen_test]
async fn health_check_reports_a_server_without_the_api_as_an_http_error() {
    // The test runner's server has no /api/health: a real fetch gets its 404.
    assert_eq!(check_health("/api/health", 5_000).await, Err(PlatformError::Status(404)));
}

#[wasm_bindgen_test]
async fn health_check_reports_a_refused_connection_as_unreachable() {
    // Port 9 (discard) is closed on the test machine.
    let result = check_health("http://127.0.0.1:9/api/health", 5_000).await;
    assert!(matches!(result, Err(PlatformError::Unreachable(_))), "{result:?}");
}

#[wasm_bindgen_test]
async fn mounted_app_shows_the_korean_shell_and_reports_no_platform() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.remove_item("om.lang").unwrap();
    storage.set_item("om.lang", "ko").unwrap();
    leptos::mount::mount_to_body(app::App);
    let document = web_sys::window().unwrap().document().unwrap();
    let banner = document.query_selector("[data-testid=connection-banner]").unwrap().expect("banner is rendered");
    assert_eq!(document.query_selector_all("nav li").unwrap().length(), 4);
    // The first health check answers 404 from the test server: the banner must say so.
    for _ in 0..50 {
        if banner.get_attribute("data-state").as_deref() == Some("unreachable") {
            break;
        }
        TimeoutFuture::new(100).await;
    }
    assert_eq!(banner.get_attribute("data-state").as_deref(), Some("unreachable"));
    assert_eq!(banner.text_content().as_deref(), Some(Lang::Ko.strings().status_unreachable));
    // Effects have run by now: the document follows the language.
    assert_eq!(document.document_element().unwrap().get_attribute("lang").as_deref(), Some("ko"));
    assert_eq!(document.title(), Lang::Ko.strings().app_name);
}

#[wasm_bindgen_test]
fn a_qr_code_is_one_path_of_module_runs_and_a_text_too_long_has_none() {
    let (path, side) = app::components::qr_code::qr_path("WRTC1:ABC").unwrap();
    // Version 1 (21 modules) and the 4-module quiet zone on each side.
    assert_eq!(side, 21 + 8);
    // The top-left finder pattern's first row: one run of 7 dark modules, inside the quiet zone.
    assert!(path.starts_with("M4 4h7v1h-7z"), "{path}");
    // Version 40 at level M holds at most 3,391 alphanumeric characters.
    assert_eq!(app::components::qr_code::qr_path(&"A".repeat(3_392)), None);
}
