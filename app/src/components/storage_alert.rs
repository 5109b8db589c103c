use leptos::prelude::*;

use crate::device::{DeviceStatus, StorageProblem};
use crate::i18n::Strings;
use crate::locale::Locale;

/// Tells the user when the device's storage cannot take data, and why.
#[component]
pub fn StorageAlert(status: ReadSignal<DeviceStatus>) -> impl IntoView {
    let locale = expect_context::<Locale>();
    let problem = move || match status.get() {
        DeviceStatus::Failed(problem) => Some(problem),
        _ => None,
    };
    move || {
        problem().map(|problem| {
            let (kind, text) = problem_text(locale.strings(), &problem);
            view! {
                <p class="storage-alert" role="alert" data-testid="storage-alert" data-kind=kind>
                    {text}
                </p>
            }
        })
    }
}

/// A stable name for markup and tests, and the sentence that explains `problem`.
pub fn problem_text(
    strings: &'static Strings,
    problem: &StorageProblem,
) -> (&'static str, &'static str) {
    match problem {
        StorageProblem::Full => ("full", strings.storage_full),
        StorageProblem::Unavailable(_) => ("unavailable", strings.storage_unavailable),
    }
}
