use crypto::keys::DeviceKey;
use leptos::prelude::*;
use wallet::backup::BackupError;

use crate::components::storage_alert::problem_text;
use crate::device::{DeviceStatus, DeviceStore};
use crate::i18n::Strings;
use crate::key_backup::{self, BackupProblem};
use crate::locale::Locale;

/// Making the device key's passphrase-encrypted backup, and restoring one on this device.
#[component]
pub fn KeyBackupSection() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let t = move || locale.strings();
    view! {
        <h3>{move || t().backup_title}</h3>
        <ExportBackup />
        <h3>{move || t().restore_title}</h3>
        <RestoreBackup />
    }
}

#[derive(Debug, Clone)]
enum Export {
    Idle,
    Working,
    Done(String),
    Failed(BackupProblem),
}

#[component]
fn ExportBackup() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let store = expect_context::<DeviceStore>();
    let t = move || locale.strings();
    let passphrase = RwSignal::new(String::new());
    let repeated = RwSignal::new(String::new());
    let state = RwSignal::new(Export::Idle);
    let create = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(db) = store.get() else { return };
        state.set(Export::Working);
        let (first, second) = (passphrase.get_untracked(), repeated.get_untracked());
        leptos::task::spawn_local(async move {
            state.set(match key_backup::create(&db, &first, &second).await {
                Ok(text) => {
                    passphrase.set(String::new());
                    repeated.set(String::new());
                    Export::Done(text)
                }
                Err(problem) => Export::Failed(problem),
            });
        });
    };
    view! {
        <form class="form" on:submit=create>
            <PassphraseField label=|t| t.backup_passphrase value=passphrase new=true test_id="backup-passphrase" />
            <PassphraseField label=|t| t.backup_passphrase_repeat value=repeated new=true
                test_id="backup-passphrase-repeat" />
            <button type="submit" data-testid="backup-create"
                disabled=move || matches!(state.get(), Export::Working)>
                {move || t().backup_create}
            </button>
        </form>
        {move || match state.get() {
            Export::Idle => ().into_any(),
            Export::Working => view! { <p role="status">{t().backup_working}</p> }.into_any(),
            Export::Done(text) => {
                let href = format!("data:text/plain;charset=utf-8,{}", js_sys::encode_uri_component(&text));
                view! {
                    <p>{t().backup_created}</p>
                    <textarea class="key-text" readonly rows="3" data-testid="backup-text" prop:value=text />
                    <p><a download="device-key-backup.txt" href=href data-testid="backup-download">
                        {t().backup_download}
                    </a></p>
                }
                .into_any()
            }
            Export::Failed(problem) => view! {
                <p class="form-error" role="alert" data-testid="backup-error">{problem_message(t(), &problem)}</p>
            }
            .into_any(),
        }}
    }
}

#[derive(Debug, Clone)]
enum Restore {
    Idle,
    Working,
    /// Opened; waiting for the user to confirm the replacement.
    Confirm(Box<DeviceKey>),
    SameKey,
    Failed(BackupProblem),
}

#[component]
fn RestoreBackup() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let store = expect_context::<DeviceStore>();
    let device = expect_context::<ReadSignal<DeviceStatus>>();
    let t = move || locale.strings();
    let text = RwSignal::new(String::new());
    let passphrase = RwSignal::new(String::new());
    let state = RwSignal::new(Restore::Idle);
    let current_key = move || match device.get() {
        DeviceStatus::Ready { fingerprint, contact_key, .. } => Some((fingerprint, contact_key)),
        _ => None,
    };
    let open = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        state.set(Restore::Working);
        let (backup, secret) = (text.get_untracked(), passphrase.get_untracked());
        leptos::task::spawn_local(async move {
            state.set(match key_backup::open(&backup, &secret).await {
                Ok(key) => {
                    passphrase.set(String::new());
                    let same = current_key().is_some_and(|(_, current)| {
                        current == wallet::contact_key_text(&key.public())
                    });
                    if same { Restore::SameKey } else { Restore::Confirm(Box::new(key)) }
                }
                Err(problem) => Restore::Failed(problem),
            });
        });
    };
    let replace = move |key: Box<DeviceKey>| {
        let Some(db) = store.get() else { return };
        state.set(Restore::Working);
        leptos::task::spawn_local(async move {
            match key_backup::restore(&db, *key).await {
                // Everything that holds the old key (the network identity) starts again.
                Ok(()) => {
                    let _ = window().location().reload();
                }
                Err(problem) => state.set(Restore::Failed(problem)),
            }
        });
    };
    view! {
        <form class="form" on:submit=open>
            <label class="form-field">
                {move || t().restore_text}
                <textarea class="key-text" rows="3" data-testid="restore-text"
                    prop:value=text on:input=move |e| text.set(event_target_value(&e)) />
            </label>
            <PassphraseField label=|t| t.restore_passphrase value=passphrase new=false test_id="restore-passphrase" />
            <button type="submit" data-testid="restore-open"
                disabled=move || matches!(state.get(), Restore::Working | Restore::Confirm(_))>
                {move || t().restore_open}
            </button>
        </form>
        {move || match state.get() {
            Restore::Idle => ().into_any(),
            Restore::Working => view! { <p role="status">{t().backup_working}</p> }.into_any(),
            Restore::SameKey => view! { <p data-testid="restore-same">{t().restore_same_key}</p> }.into_any(),
            Restore::Confirm(key) => {
                let current = current_key().map(|(fingerprint, _)| fingerprint).unwrap_or_default();
                let incoming = wallet::fingerprint(&key.public());
                view! {
                    <div class="confirm" role="alertdialog" data-testid="restore-confirm">
                        <p>{t().restore_confirm}</p>
                        <p>{t().restore_current_key} ": " <code>{current}</code></p>
                        <p>{t().restore_backup_key} ": " <code data-testid="restore-backup-key">{incoming}</code></p>
                        <button type="button" data-testid="restore-replace" on:click=move |_| replace(key.clone())>
                            {t().restore_replace}
                        </button>
                        " "
                        <button type="button" class="secondary" data-testid="restore-cancel"
                            on:click=move |_| state.set(Restore::Idle)>
                            {t().restore_cancel}
                        </button>
                    </div>
                }
                .into_any()
            }
            Restore::Failed(problem) => view! {
                <p class="form-error" role="alert" data-testid="restore-error">{problem_message(t(), &problem)}</p>
            }
            .into_any(),
        }}
    }
}

/// A passphrase input bound to `value`, under its label; `new` tells password managers whether
/// to offer a new passphrase or a saved one.
#[component]
fn PassphraseField(
    label: fn(&'static Strings) -> &'static str,
    value: RwSignal<String>,
    new: bool,
    test_id: &'static str,
) -> impl IntoView {
    let locale = expect_context::<Locale>();
    let autocomplete = if new { "new-password" } else { "current-password" };
    view! {
        <label class="form-field">
            {move || label(locale.strings())}
            <input type="password" autocomplete=autocomplete data-testid=test_id
                prop:value=value on:input=move |e| value.set(event_target_value(&e)) />
        </label>
    }
}

/// The sentence that tells the user what went wrong.
fn problem_message(t: &'static Strings, problem: &BackupProblem) -> &'static str {
    match problem {
        BackupProblem::Mismatch => t.backup_error_mismatch,
        BackupProblem::Backup(BackupError::NotABackup) => t.backup_error_not_a_backup,
        BackupProblem::Backup(BackupError::Corrupted) => t.backup_error_damaged,
        BackupProblem::Backup(BackupError::UnknownVersion(_)) => t.backup_error_version,
        BackupProblem::Backup(BackupError::WrongPassphrase) => t.backup_error_wrong_passphrase,
        BackupProblem::Backup(BackupError::PassphraseTooShort) => t.backup_error_too_short,
        BackupProblem::Backup(BackupError::TooLong | BackupError::PassphraseTooLong) => t.backup_error_too_long,
        BackupProblem::Storage(problem) => problem_text(t, problem).1,
    }
}
