use leptos::prelude::*;

use crate::{components::PageLink, locale::Locale};

#[component]
pub fn NotFoundPage() -> impl IntoView {
    let locale = expect_context::<Locale>();
    view! {
        <h1 data-testid="page-title">{move || locale.strings().not_found_title}</h1>
        <PageLink href="/">{move || locale.strings().not_found_link}</PageLink>
    }
}
