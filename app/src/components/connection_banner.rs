use leptos::prelude::*;

use crate::{connection::PlatformStatus, locale::Locale};

/// Says plainly whether the platform is reachable; screen readers hear changes.
#[component]
pub fn ConnectionBanner(status: ReadSignal<PlatformStatus>) -> impl IntoView {
    let locale = expect_context::<Locale>();
    let text = move || {
        let strings = locale.strings();
        match status.get() {
            PlatformStatus::Checking => strings.status_checking,
            PlatformStatus::Online => strings.status_online,
            PlatformStatus::Unreachable => strings.status_unreachable,
        }
    };
    view! {
        <p
            class="connection-banner"
            role="status"
            aria-live="polite"
            data-testid="connection-banner"
            data-state=move || status.get().as_str()
        >
            {text}
        </p>
    }
}
