//! Which page is shown: the location's path, kept in a signal. The app has four pages at fixed
//! paths and nothing in its URLs to parse, so this takes the place of leptos_router, which cost
//! the PWA 45 KB gzip of its 527 (`cargo xtask bench app`; the design's budget is 450).
//!
//! Pages are reached by plain links (`components::PageLink`): a click is taken over with
//! `history.pushState`, so the page changes without a reload; back and forward (`popstate`)
//! change it too; a deep link or a reload shows the page of its path.

use gloo::events::EventListener;
use leptos::prelude::*;

/// The app's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Chats,
    /// `/wallet`
    Wallet,
    /// `/merchant`
    Merchant,
    /// `/settings`
    Settings,
    /// Any other path.
    NotFound,
}

impl Page {
    /// The page at `path`, a location's pathname (with or without a trailing slash).
    pub fn at(path: &str) -> Self {
        match path {
            "/" => Self::Chats,
            "/wallet" | "/wallet/" => Self::Wallet,
            "/merchant" | "/merchant/" => Self::Merchant,
            "/settings" | "/settings/" => Self::Settings,
            _ => Self::NotFound,
        }
    }
}

/// The current page, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Navigation {
    page: RwSignal<Page>,
}

impl Navigation {
    /// Starts at the location's page and follows the browser's back and forward buttons.
    pub fn start() -> Self {
        let page = RwSignal::new(Page::at(&current_path()));
        // Lives as long as the page: the app never stops navigating.
        EventListener::new(&window(), "popstate", move |_| show(page, Page::at(&current_path()))).forget();
        Self { page }
    }

    /// The current page (tracked).
    pub fn page(&self) -> Page {
        self.page.get()
    }

    /// Shows the page at `path` and adds it to the session history, as following a link would.
    pub fn go(&self, path: &str) {
        if current_path() == path {
            return;
        }
        if window().history().and_then(|history| history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))).is_err() {
            // No history API (never in a browser that runs this app): a real navigation does it.
            let _ = window().location().set_href(path);
            return;
        }
        window().scroll_to_with_x_and_y(0.0, 0.0);
        show(self.page, Page::at(path));
    }
}

/// Changes the page only if it is another one: showing a page again would build it anew and
/// lose what is typed in it.
fn show(page: RwSignal<Page>, next: Page) {
    if page.get_untracked() != next {
        page.set(next);
    }
}

fn current_path() -> String {
    window().location().pathname().unwrap_or_else(|_| "/".to_owned())
}
