//! The service worker: registered at start; when a new deployment's worker is installed and
//! waiting, the user is offered a reload instead of being served a mix of two versions.

use gloo::events::EventListener;
use leptos::prelude::*;
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

/// The worker's script, generated at build time by `cargo xtask pwa-finish`.
const WORKER_URL: &str = "/sw.js";
/// How often a long-open tab asks whether a new version was deployed.
const UPDATE_CHECK_MS: u32 = 60_000;
/// The message the waiting worker takes as "activate now" (see public/sw.js).
const SKIP_WAITING: &str = "SKIP_WAITING";

/// Registers the worker and returns a signal that turns true when an update is waiting.
pub fn register_service_worker() -> ReadSignal<bool> {
    let (update_ready, set_update_ready) = signal(false);
    let Some(container) = worker_container() else {
        return update_ready;
    };
    leptos::task::spawn_local(async move {
        let registration = match JsFuture::from(container.register(WORKER_URL)).await {
            Ok(registration) => registration.unchecked_into::<ServiceWorkerRegistration>(),
            Err(error) => {
                leptos::logging::warn!("service worker not registered: {}", crate::platform_client::js_message(&error));
                return;
            }
        };
        watch_for_waiting_worker(&container, &registration, set_update_ready);
        loop {
            gloo::timers::future::TimeoutFuture::new(UPDATE_CHECK_MS).await;
            if let Ok(promise) = registration.update() {
                let _ = JsFuture::from(promise).await;
            }
        }
    });
    update_ready
}

/// Activates the waiting worker and reloads once it controls the page.
pub fn apply_update() {
    let Some(container) = worker_container() else { return };
    EventListener::once(&container, "controllerchange", |_| {
        let _ = window().location().reload();
    })
    .forget();
    leptos::task::spawn_local(async move {
        if let Ok(registration) = JsFuture::from(container.get_registration()).await
            && let Some(waiting) = registration.dyn_into::<ServiceWorkerRegistration>().ok().and_then(|r| r.waiting())
        {
            let _ = waiting.post_message(&SKIP_WAITING.into());
        }
    });
}

fn worker_container() -> Option<ServiceWorkerContainer> {
    let navigator = window().navigator();
    // Absent on insecure origins and in some embedded browsers: the app still runs, online only.
    js_sys::Reflect::has(&navigator, &"serviceWorker".into())
        .unwrap_or(false)
        .then(|| navigator.service_worker())
}

fn watch_for_waiting_worker(
    container: &ServiceWorkerContainer,
    registration: &ServiceWorkerRegistration,
    set_update_ready: WriteSignal<bool>,
) {
    // Without a controller this is the first install: nothing old to replace.
    let replaces_a_version = {
        let container = container.clone();
        move || container.controller().is_some()
    };
    if registration.waiting().is_some() && replaces_a_version() {
        set_update_ready.set(true);
    }
    let registration_for_listener = registration.clone();
    EventListener::new(registration, "updatefound", move |_| {
        let Some(installing) = registration_for_listener.installing() else { return };
        let worker = installing.clone();
        let replaces_a_version = replaces_a_version.clone();
        EventListener::new(&installing, "statechange", move |_| {
            if worker.state() == ServiceWorkerState::Installed && replaces_a_version() {
                set_update_ready.set(true);
            }
        })
        .forget();
    })
    .forget();
}
