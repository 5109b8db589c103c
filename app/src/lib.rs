//! The PWA: pages and components (Leptos, client-side rendered) and the browser adapters.
//!
//! Data flows one way: components -> app services (`locale`, `connection`, `pwa`, `device`) ->
//! adapters (`platform_client`, the IndexedDB stores of `store-indexeddb`).

pub mod connection;
pub mod contacts;
pub mod device;
pub mod i18n;
pub mod key_backup;
pub mod locale;
pub mod navigation;
pub mod network;
pub mod platform_client;
pub mod pwa;

pub mod components;
pub mod pages;

use leptos::prelude::*;

use components::{ConnectionBanner, NavBar, StorageAlert, UpdatePrompt};
use navigation::{Navigation, Page};
use pages::{ChatsPage, MerchantPage, NotFoundPage, SettingsPage, WalletPage};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let locale = locale::Locale::start();
    provide_context(locale);
    let platform_status = connection::watch_platform();
    let update_ready = pwa::register_service_worker();
    let device = device::start();
    provide_context(device);
    provide_context(network::start());
    let navigation = Navigation::start();
    provide_context(navigation);
    view! {
        <div class="shell">
            <header class="top-bar">
                <span class="app-name">{move || locale.strings().app_name}</span>
                <ConnectionBanner status=platform_status />
                <components::LinkSummary />
            </header>
            <UpdatePrompt ready=update_ready />
            <StorageAlert status=device />
            <main class="page" id="main">
                {move || page_view(navigation.page())}
            </main>
            <NavBar />
        </div>
    }
}

/// The view of `page`.
fn page_view(page: Page) -> AnyView {
    match page {
        Page::Chats => view! { <ChatsPage /> }.into_any(),
        Page::Wallet => view! { <WalletPage /> }.into_any(),
        Page::Merchant => view! { <MerchantPage /> }.into_any(),
        Page::Settings => view! { <SettingsPage /> }.into_any(),
        Page::NotFound => view! { <NotFoundPage /> }.into_any(),
    }
}
