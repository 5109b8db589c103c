use leptos::prelude::*;
use libp2p::PeerId;

use crate::{
    components::{OfflineLinkSection, text_field::TextField},
    i18n::Strings,
    locale::Locale,
    network::{CheckReport, LinkKind, Network, NetworkStatus, PeerLink},
};

/// Requests per connection check unless the user asks for another number.
const DEFAULT_CHECK_COUNT: u32 = 100;

/// Direct links to other devices: this device's address to share, a field to connect to another
/// device's address, each peer with how it is reached, and a connection check per peer.
#[component]
pub fn PeerLinksSection() -> impl IntoView {
    let locale = expect_context::<Locale>();
    let network = expect_context::<Network>();
    let t = move || locale.strings();
    let (address, set_address) = signal(String::new());
    let (connect_error, set_connect_error) = signal(None::<String>);
    let (count, set_count) = signal(DEFAULT_CHECK_COUNT);
    let status = network.status();
    let links = network.links();
    let connect = {
        let network = network.clone();
        move |_| set_connect_error.set(network.connect(&address.get_untracked()).err().map(|e| e.to_string()))
    };
    view! {
        <section data-testid="peer-links">
            <h2>{move || t().peers_title}</h2>
            <p data-testid="network-status" data-state=move || status.get().as_str()>
                {move || status_text(t(), status.get())}
            </p>
            {move || match status.get() {
                NetworkStatus::Reachable(address) => {
                    Some(view! { <code class="share-address" data-testid="my-address">{address}</code> })
                }
                _ => None,
            }}
            <TextField
                label=Signal::derive(move || t().peers_address_label)
                test_id="peer-address"
                value=address
                set_value=set_address
            />
            <button type="button" data-testid="connect-peer" on:click=connect>
                {move || t().peers_connect}
            </button>
            {move || connect_error.get().map(|error| view! {
                <p role="alert" data-testid="connect-error">{t().peers_bad_address} " " {error}</p>
            })}
            <label>
                {move || t().check_count_label}
                <input
                    type="number"
                    min="1"
                    max=crate::network::check::MAX_COUNT.to_string()
                    data-testid="check-count"
                    prop:value=move || count.get().to_string()
                    on:input=move |event| {
                        if let Ok(value) = event_target_value(&event).parse::<u32>() {
                            set_count.set(value);
                        }
                    }
                />
            </label>
            <ul class="peer-list">
                <For
                    each=move || links.get()
                    key=|link| link.peer
                    children=move |link: PeerLink| view! { <PeerRow peer=link.peer count=count /> }
                />
            </ul>
            <OfflineLinkSection />
        </section>
    }
}

fn status_text(t: &'static Strings, status: NetworkStatus) -> String {
    match status {
        NetworkStatus::Starting => t.network_starting.to_owned(),
        NetworkStatus::Reserving => t.network_reserving.to_owned(),
        NetworkStatus::Reachable(_) => t.network_reachable.to_owned(),
        NetworkStatus::NoRelay(reason) => format!("{} ({reason})", t.network_no_relay),
        NetworkStatus::Failed(reason) => format!("{} ({reason})", t.network_failed),
    }
}

/// One peer: its id, how it is reached, and its connection check.
#[component]
fn PeerRow(peer: PeerId, count: ReadSignal<u32>) -> impl IntoView {
    let locale = expect_context::<Locale>();
    let network = expect_context::<Network>();
    let t = move || locale.strings();
    let links = network.links();
    let link = move || links.with(|links| links.iter().find(|l| l.peer == peer).cloned());
    let kind = move || link().map_or(LinkKind::None, |l| l.kind);
    // The result of the last check, numbered so that a reader can tell a new one from the last.
    let (report, set_report) = signal(None::<(u32, Result<CheckReport, String>)>);
    let (running, set_running) = signal(false);
    let run_check = move |_| {
        let network = network.clone();
        set_running.set(true);
        leptos::task::spawn_local(async move {
            let result = network.check(peer, count.get_untracked()).await.map_err(|e| e.to_string());
            set_report.update(|report| *report = Some((report.as_ref().map_or(1, |(run, _)| run + 1), result)));
            set_running.set(false);
        });
    };
    view! {
        <li data-testid="peer-link" data-peer=peer.to_string() data-state=move || kind().as_str()>
            <code class="peer-id">{peer.to_string()}</code>
            " "
            <span data-testid="peer-link-kind">{move || kind_text(t(), kind())}</span>
            {move || link().and_then(|l: PeerLink| l.problem).map(|problem| view! {
                <p class="peer-problem" data-testid="peer-problem">{problem}</p>
            })}
            <button type="button" data-testid="check-peer" on:click=run_check disabled=running>
                {move || if running.get() { t().check_running } else { t().check_run }}
            </button>
            {move || report.get().map(|(run, report)| check_view(t(), run, report))}
        </li>
    }
}

fn kind_text(t: &'static Strings, kind: LinkKind) -> &'static str {
    match kind {
        LinkKind::Direct => t.link_direct,
        LinkKind::Relayed => t.link_relayed,
        LinkKind::None => t.link_none,
    }
}

fn check_view(t: &'static Strings, run: u32, report: Result<CheckReport, String>) -> AnyView {
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            return view! {
                <p data-testid="check-result" data-run=run.to_string() data-answered="0">{t.check_stopped} " " {error}</p>
            }
            .into_any();
        }
    };
    let failure = report.failure.as_ref().map(|failure| format!(" · {} {failure}", t.check_stopped));
    view! {
        <p
            data-testid="check-result"
            data-run=run.to_string()
            data-answered=report.answered.to_string()
            data-requested=report.requested.to_string()
            data-p50-ms=report.p50_ms.to_string()
            data-p99-ms=report.p99_ms.to_string()
        >
            {t.check_answered} ": " {report.answered} "/" {report.requested}
            " · " {t.check_median} ": " {format!("{:.1}", report.p50_ms)} " ms"
            " · " {t.check_p99} ": " {format!("{:.1}", report.p99_ms)} " ms"
            {failure}
        </p>
    }
    .into_any()
}
