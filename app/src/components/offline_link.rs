use leptos::prelude::*;

use crate::{
    components::qr_code::QrCodeImage,
    components::text_field::{TextField, text_to_copy},
    locale::Locale,
    network::Network,
};

/// A direct link with no server: one device makes an invitation, the other answers it, each
/// passing its text to the other by hand (copied, or as a QR code). The link then shows among the
/// peers.
#[component]
pub fn OfflineLinkSection() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let network = expect_context::<Network>();
    let t = move || locale.strings();
    let me = network.me();
    let (peer, set_peer) = signal(String::new());
    let (received, set_received) = signal(String::new());
    let (invitation, set_invitation) = signal(None::<String>);
    let (answer, set_answer) = signal(None::<String>);
    let (problem, set_problem) = signal(None::<String>);
    let invite = {
        let network = network.clone();
        move |_| {
            let network = network.clone();
            leptos::task::spawn_local(async move {
                match network.invite().await {
                    Ok(text) => set_invitation.set(Some(text)),
                    Err(error) => set_problem.set(Some(error.to_string())),
                }
            });
        }
    };
    let respond = {
        let network = network.clone();
        move |_| {
            let network = network.clone();
            leptos::task::spawn_local(async move {
                match network.answer_invitation(&received.get_untracked(), &peer.get_untracked()).await {
                    Ok(text) => set_answer.set(Some(text)),
                    Err(error) => set_problem.set(Some(error.to_string())),
                }
            });
        }
    };
    let accept = move |_| {
        let network = network.clone();
        leptos::task::spawn_local(async move {
            let accepted = network.accept_answer(&received.get_untracked(), &peer.get_untracked()).await;
            set_problem.set(accepted.err().map(|error| error.to_string()));
        });
    };
    view! {
        <section data-testid="offline-link">
            <h2>{move || t().oob_title}</h2>
            <p>{move || t().oob_intro}</p>
            <p>
                {move || t().oob_my_id} ": "
                <code data-testid="my-peer-id">{move || me.get().map(|me| me.to_string())}</code>
            </p>
            <TextField
                label=Signal::derive(move || t().oob_peer_id)
                test_id="oob-peer"
                value=peer
                set_value=set_peer
            />
            <button type="button" data-testid="oob-invite" on:click=invite>{move || t().oob_invite}</button>
            {move || invitation.get().map(|text| view! {
                {text_to_copy(t().oob_invitation, "oob-invitation", text.clone())}
                <QrCodeImage text test_id="oob-invitation-qr" />
            })}
            <label>
                {move || t().oob_received}
                <textarea
                    data-testid="oob-received"
                    prop:value=received
                    on:input=move |event| set_received.set(event_target_value(&event))
                ></textarea>
            </label>
            <button type="button" data-testid="oob-answer" on:click=respond>{move || t().oob_answer}</button>
            <button type="button" data-testid="oob-accept" on:click=accept>{move || t().oob_accept}</button>
            {move || answer.get().map(|text| view! {
                {text_to_copy(t().oob_answer_text, "oob-answer-text", text.clone())}
                <QrCodeImage text test_id="oob-answer-qr" />
            })}
            {move || problem.get().map(|problem| view! {
                <p role="alert" data-testid="oob-problem">{t().oob_failed} " " {problem}</p>
            })}
        </section>
    }
}
