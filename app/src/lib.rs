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
pub mod network;
pub mod platform_client;
pub mod pwa;

pub mod components;
pub mod pages;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use components::{ConnectionBanner, NavBar, StorageAlert, UpdatePrompt};
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
    view! {
        <Router>
            <div class="shell">
                <header class="top-bar">
                    <span class="app-name">{move || locale.strings().app_name}</span>
                    <ConnectionBanner status=platform_status />
                    <components::LinkSummary />
                </header>
                <UpdatePrompt ready=update_ready />
                <StorageAlert status=device />
                <main class="page" id="main">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/") view=ChatsPage />
                        <Route path=path!("/wallet") view=WalletPage />
                        <Route path=path!("/merchant") view=MerchantPage />
                        <Route path=path!("/settings") view=SettingsPage />
                    </Routes>
                </main>
                <NavBar />
            </div>
        </Router>
    }
}
