use leptos::prelude::*;

/// A labelled one-line text input bound to a signal.
#[component]
pub fn TextField(
    /// The label, in the current language.
    label: Signal<&'static str>,
    /// The input's `data-testid`.
    test_id: &'static str,
    value: ReadSignal<String>,
    set_value: WriteSignal<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                type="text"
                data-testid=test_id
                prop:value=value
                on:input=move |event| set_value.set(event_target_value(&event))
            />
        </label>
    }
}

/// A labelled read-only text for the user to copy to another device.
pub fn text_to_copy(label: &'static str, test_id: &'static str, text: String) -> impl IntoView {
    view! {
        <label>
            {label}
            <textarea readonly data-testid=test_id prop:value=text></textarea>
        </label>
    }
}
