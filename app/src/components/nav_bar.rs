use leptos::prelude::*;

use crate::{components::PageLink, i18n::Strings, locale::Locale};

/// Route, test id, and the label's place among the strings.
type Tab = (&'static str, &'static str, fn(&Strings) -> &'static str);

/// The tabs, in focus order after the page content; the current one is marked
/// `aria-current="page"`.
#[component]
pub fn NavBar() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let tabs: [Tab; 4] = [
        ("/", "nav-chats", |s| s.nav_chats),
        ("/wallet", "nav-wallet", |s| s.nav_wallet),
        ("/merchant", "nav-merchant", |s| s.nav_merchant),
        ("/settings", "nav-settings", |s| s.nav_settings),
    ];
    view! {
        <nav class="nav-bar" aria-label=move || locale.strings().nav_label>
            <ul>
                {tabs
                    .into_iter()
                    .map(|(href, test_id, label)| {
                        view! {
                            <li data-testid=test_id>
                                <PageLink href=href>{move || label(locale.strings())}</PageLink>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
