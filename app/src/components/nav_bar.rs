use leptos::prelude::*;
use leptos_router::components::A;

use crate::{i18n::Strings, locale::Locale};

/// Route, test id, and the label's place among the strings.
type Tab = (&'static str, &'static str, fn(&Strings) -> &'static str);

/// The tabs, in focus order after the page content. The router marks the current one with
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
                                <A href=href exact=true>{move || label(locale.strings())}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}
