use leptos::prelude::*;

use crate::{locale::Locale, pwa};

/// Offered when a new deployment is installed and waiting.
#[component]
pub fn UpdatePrompt(ready: ReadSignal<bool>) -> impl IntoView {
    let locale = expect_context::<Locale>();
    view! {
        <Show when=move || ready.get()>
            <div class="update-prompt" role="alert" data-testid="update-prompt">
                <span>{move || locale.strings().update_ready}</span>
                <button type="button" data-testid="update-reload" on:click=|_| pwa::apply_update()>
                    {move || locale.strings().update_reload}
                </button>
            </div>
        </Show>
    }
}
