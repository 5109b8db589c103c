use leptos::prelude::*;

use crate::{components::EmptyState, locale::Locale};

#[component]
pub fn ChatsPage() -> impl IntoView {
    let locale = expect_context::<Locale>();
    view! {
        <h1 data-testid="page-title">{move || locale.strings().chats_title}</h1>
        <EmptyState
            title=Signal::derive(move || locale.strings().chats_empty_title)
            body=Signal::derive(move || locale.strings().chats_empty_body)
        />
    }
}
