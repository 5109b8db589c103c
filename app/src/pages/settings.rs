use leptos::prelude::*;

use crate::{i18n::Lang, locale::Locale};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let t = move || locale.strings();
    view! {
        <h1 data-testid="page-title">{move || t().settings_title}</h1>
        <fieldset class="language-choice">
            <legend>{move || t().settings_language}</legend>
            {Lang::ALL
                .into_iter()
                .map(|lang| {
                    view! {
                        <label>
                            <input
                                type="radio"
                                name="language"
                                value=lang.tag()
                                data-testid=format!("language-{}", lang.tag())
                                prop:checked=move || locale.get() == lang
                                on:change=move |_| locale.set(lang)
                            />
                            {move || t().language_name(lang)}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
        <section>
            <h2>{move || t().settings_about}</h2>
            <p>{move || t().settings_about_body}</p>
        </section>
    }
}
