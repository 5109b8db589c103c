use leptos::prelude::*;
use leptos_router::components::A;

use crate::locale::Locale;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    let locale = expect_context::<Locale>();
    view! {
        <h1 data-testid="page-title">{move || locale.strings().not_found_title}</h1>
        <A href="/">{move || locale.strings().not_found_link}</A>
    }
}
