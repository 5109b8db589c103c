use leptos::prelude::*;

use crate::{
    locale::Locale,
    network::{LinkKind, Network},
};

/// How many peers are connected directly and how many only through a relay, in the top bar on
/// every page; nothing while no peer is connected.
#[component]
pub fn LinkSummary() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let links = expect_context::<Network>().links();
    let count = move |kind: LinkKind| links.with(|links| links.iter().filter(|link| link.kind == kind).count());
    let (direct, relayed) = (move || count(LinkKind::Direct), move || count(LinkKind::Relayed));
    view! {
        <Show when=move || { direct() + relayed() > 0 }>
            <p
                class="link-summary"
                data-testid="link-summary"
                data-direct=move || direct().to_string()
                data-relayed=move || relayed().to_string()
            >
                {move || locale.strings().links_direct} " " {direct} " · "
                {move || locale.strings().links_relayed} " " {relayed}
            </p>
        </Show>
    }
}
