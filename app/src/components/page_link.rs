use leptos::{ev::MouseEvent, prelude::*};

use crate::navigation::{Navigation, Page};

/// A link to one of the app's pages, marked `aria-current="page"` while that page is shown. A
/// plain click changes the page in place; a click with a modifier key (new tab, new window,
/// download) is left to the browser.
#[component]
pub fn PageLink(href: &'static str, children: Children) -> impl IntoView {
    let navigation = expect_context::<Navigation>();
    let follow = move |event: MouseEvent| {
        let modified = event.ctrl_key() || event.meta_key() || event.shift_key() || event.alt_key();
        if event.button() == 0 && !modified && !event.default_prevented() {
            event.prevent_default();
            navigation.go(href);
        }
    };
    let current = move || (navigation.page() == Page::at(href)).then_some("page");
    view! {
        <a href=href aria-current=current on:click=follow>
            {children()}
        </a>
    }
}
