use leptos::prelude::*;

/// What a page shows when it has nothing yet: what will be here, and why it is safe.
#[component]
pub fn EmptyState(title: Signal<&'static str>, body: Signal<&'static str>) -> impl IntoView {
    view! {
        <section class="empty-state" data-testid="empty-state">
            <h2>{title}</h2>
            <p>{body}</p>
        </section>
    }
}
