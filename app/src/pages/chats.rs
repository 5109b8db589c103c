use leptos::prelude::*;

use crate::components::{EmptyState, storage_alert::problem_text};
use crate::contacts::{self, ContactProblem};
use crate::device::{DeviceStatus, DeviceStore};
use crate::i18n::Strings;
use crate::locale::Locale;

#[component]
pub fn ChatsPage() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let store = expect_context::<DeviceStore>();
    let device = expect_context::<ReadSignal<DeviceStatus>>();
    let t = move || locale.strings();
    // Bumped after an add, so the list is read again.
    let revision = RwSignal::new(0u32);
    let contacts = LocalResource::new(move || {
        revision.track();
        let ready = matches!(device.get(), DeviceStatus::Ready { .. });
        async move {
            match store.get() {
                Some(db) if ready => Some(contacts::list(&db).await),
                _ => None,
            }
        }
    });
    view! {
        <h1 data-testid="page-title">{move || t().chats_title}</h1>
        {move || match contacts.get().flatten() {
            None => ().into_any(),
            Some(Ok(list)) if list.is_empty() => view! {
                <EmptyState
                    title=Signal::derive(move || locale.strings().chats_empty_title)
                    body=Signal::derive(move || locale.strings().chats_empty_body)
                />
            }
            .into_any(),
            Some(Ok(list)) => view! {
                <h2>{t().contacts_title}</h2>
                <ul class="contact-list" data-testid="contact-list">
                    {list
                        .into_iter()
                        .map(|contact| {
                            let fingerprint = wallet::fingerprint(&contact.key);
                            view! {
                                <li data-testid="contact">
                                    <span class="contact-name" data-testid="contact-name">{contact.name}</span>
                                    " "
                                    <code data-testid="contact-fingerprint">{fingerprint}</code>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
            Some(Err(problem)) => view! {
                <p class="form-error" role="alert">{problem_text(t(), &problem).1}</p>
            }
            .into_any(),
        }}
        <AddContact revision />
    }
}

/// Adds a contact by the key they handed out, under a name the user chooses.
#[component]
fn AddContact(revision: RwSignal<u32>) -> impl IntoView {
    let locale = expect_context::<Locale>();
    let store = expect_context::<DeviceStore>();
    let t = move || locale.strings();
    let key = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<(), ContactProblem>>);
    let add = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(db) = store.get() else { return };
        let (key_text, name_text) = (key.get_untracked(), name.get_untracked());
        leptos::task::spawn_local(async move {
            let added = contacts::add(&db, &key_text, &name_text).await.map(|_| ());
            if added.is_ok() {
                key.set(String::new());
                name.set(String::new());
                revision.update(|r| *r += 1);
            }
            outcome.set(Some(added));
        });
    };
    view! {
        <form class="form" on:submit=add data-testid="add-contact">
            <h2>{move || t().contact_add}</h2>
            <label class="form-field">
                {move || t().contact_key_label}
                <input class="key-text" autocomplete="off" spellcheck="false" data-testid="contact-key-input"
                    prop:value=key on:input=move |e| key.set(event_target_value(&e)) />
            </label>
            <label class="form-field">
                {move || t().contact_name_label}
                <input autocomplete="off" data-testid="contact-name-input"
                    prop:value=name on:input=move |e| name.set(event_target_value(&e)) />
            </label>
            <button type="submit" data-testid="contact-add">{move || t().contact_add}</button>
        </form>
        {move || outcome.get().map(|outcome| match outcome {
            Ok(()) => view! { <p role="status">{t().contact_added}</p> }.into_any(),
            Err(problem) => view! {
                <p class="form-error" role="alert" data-testid="contact-error">{problem_message(t(), &problem)}</p>
            }
            .into_any(),
        })}
    }
}

fn problem_message(t: &'static Strings, problem: &ContactProblem) -> &'static str {
    match problem {
        ContactProblem::Key(wallet::ContactKeyError::NotAKey) => t.contact_error_key,
        ContactProblem::Key(wallet::ContactKeyError::Invalid(_)) => t.contact_error_weak_key,
        ContactProblem::Name => t.contact_error_name,
        ContactProblem::Storage(problem) => problem_text(t, problem).1,
    }
}
