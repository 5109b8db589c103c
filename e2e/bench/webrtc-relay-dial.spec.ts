import type { Page } from "@playwright/test";
import { test } from "../fixtures/platform";
import { PeerLinks, peerOf } from "../fixtures/peer-links";

// How long a `/webrtc` dial through the platform's relay takes until the direct link carries
// data (the peer shows "direct" once its connection over the data channel is up: the Noise
// handshake has crossed it), with a new pair of devices each time; then round trips over the
// direct link, from the app's own connection check.

const DIALS = 10;
const MESSAGES = 1_000;
const DIAL_TIMEOUT_MS = 30_000;

function bench(name: string, value: number, unit: string): void {
  console.log(`BENCH ${JSON.stringify({ name, value: Number(value.toFixed(3)), unit })}`);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(sorted.length * q))) - 1];
}

/** Clicks "connect" in the page and times, in the page's clock, until `peer` shows as direct. */
function timeDial(page: Page, peer: string): Promise<number> {
  return page.evaluate(
    ([peer, timeout]) =>
      new Promise<number>((resolve, reject) => {
        const direct = () => document.querySelector(`[data-testid="peer-link"][data-peer="${peer}"][data-state="direct"]`);
        const observer = new MutationObserver(() => {
          if (direct()) {
            observer.disconnect();
            resolve(performance.now() - started);
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
        setTimeout(() => reject(new Error(`no direct link after ${timeout} ms`)), timeout);
        const started = performance.now();
        document.querySelector<HTMLElement>('[data-testid="connect-peer"]')?.click();
      }),
    [peer, DIAL_TIMEOUT_MS] as const,
  );
}

test("relay dial to a direct link, and round trips over it", async ({ browser, platform }) => {
  const dials: number[] = [];
  let pair: [PeerLinks, PeerLinks, string] | undefined;
  for (let dial = 0; dial < DIALS; dial++) {
    const [a, b] = await Promise.all(
      [0, 1].map(async () => {
        const links = new PeerLinks(await (await browser.newContext()).newPage());
        await links.open(platform.url);
        return links;
      }),
    );
    const [addressA] = await Promise.all([a.address(), b.address()]);
    await b.page.getByTestId("peer-address").fill(addressA);
    dials.push(await timeDial(b.page, peerOf(addressA)));
    if (pair) await Promise.all([pair[0].page.context().close(), pair[1].page.context().close()]);
    pair = [a, b, peerOf(addressA)];
  }
  bench("webrtc_relay_dial_to_direct_p50", quantile(dials, 0.5), "ms");
  bench("webrtc_relay_dial_to_direct_max", Math.max(...dials), "ms");
  if (!pair) return;
  const [, b, peerA] = pair;
  const check = await b.check(peerA, MESSAGES);
  const result = b.peer(peerA).getByTestId("check-result");
  bench("app_check_answered", check.answered, "messages");
  bench("app_check_rtt_p50", Number(await result.getAttribute("data-p50-ms")), "ms");
  bench("app_check_rtt_p99", Number(await result.getAttribute("data-p99-ms")), "ms");
});
