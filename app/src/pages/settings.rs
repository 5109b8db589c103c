use leptos::prelude::*;

use crate::{
    components::{KeyBackupSection, storage_alert::problem_text},
    device::DeviceStatus,
    i18n::{Lang, Strings},
    locale::Locale,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let t = move || locale.strings();
    view! {
        <h1 data-testid="page-title">{move || t().settings_title}</h1>
        <fieldset class="language-choice">
            <legend>{move || t().settings_language}</legend>
            {Lang::ALL
                .into_iter()
                .map(|lang| {
                    view! {
                        <label>
                            <input
                                type="radio"
                                name="language"
                                value=lang.tag()
                                data-testid=format!("language-{}", lang.tag())
                                prop:checked=move || locale.get() == lang
                                on:change=move |_| locale.set(lang)
                            />
                            {move || t().language_name(lang)}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        <DeviceSection />
        <crate::components::PeerLinksSection />
        <section>
            <h2>{move || t().settings_about}</h2>
            <p>{move || t().settings_about_body}</p>
        </section>
    }
}

/// The device's identity and storage, as far as the user needs them.
#[component]
fn DeviceSection() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let device = expect_context::<ReadSignal<DeviceStatus>>();
    let t = move || locale.strings();
    view! {
        <section data-testid="device-section">
            <h2>{move || t().settings_device}</h2>
            {move || device_details(t(), device.get())}
            <p>{move || t().settings_backup_note}</p>
            <KeyBackupSection />
        </section>
    }
}

fn device_details(t: &'static Strings, status: DeviceStatus) -> AnyView {
    match status {
        DeviceStatus::Ready {
            fingerprint,
            contact_key,
            persistent,
        } => {
            let storage = if persistent {
                t.settings_storage_persistent
            } else {
                t.settings_storage_best_effort
            };
            view! {
                <p>
                    {t.settings_device_key} ": "
                    <code data-testid="device-fingerprint">{fingerprint}</code>
                </p>
                <p>
                    {t.settings_contact_key} ": "
                    <code class="key-text" data-testid="device-contact-key">{contact_key}</code>
                </p>
                <p class="hint">{t.settings_contact_key_hint}</p>
                <p data-testid="storage-persistence" data-persistent=persistent.to_string()>
                    {storage}
                </p>
            }
            .into_any()
        }
        DeviceStatus::Opening => view! { <p>{t.settings_device_opening}</p> }.into_any(),
        DeviceStatus::Failed(problem) => view! { <p>{problem_text(t, &problem).1}</p> }.into_any(),
    }
}
