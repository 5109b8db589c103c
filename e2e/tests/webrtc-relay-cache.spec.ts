import { AppPage } from "../fixtures/app-page";
import { PeerLinks, peerOf } from "../fixtures/peer-links";
import { PlatformProcess, expect, test } from "../fixtures/platform";
import { RelayProcess } from "../fixtures/relay";

// Known relays are cached: a device that loaded the app while the platform was up (and learnt of
// an independent relay, a `platform relay` process, through it) is reloaded after the platform
// is killed. Served by its service worker, it finds no directory, tries the relays it cached,
// reserves a slot on the one still alive, and another device links to it directly through that
// relay.

test("after a reload while the platform is down, the app reserves on the relays it cached", async ({ browser }) => {
  test.setTimeout(120_000);
  const relay = await RelayProcess.start();
  process.env.PLATFORM_OTHER_RELAYS = relay.websocket;
  const platform = await PlatformProcess.start().finally(() => {
    delete process.env.PLATFORM_OTHER_RELAYS;
  });
  try {
    const [a, b] = await Promise.all(
      [0, 1].map(async () => {
        const links = new PeerLinks(await (await browser.newContext()).newPage());
        await links.open(platform.url);
        return links;
      }),
    );
    await Promise.all([a.address(), b.address()]);
    await new AppPage(a.page, platform.url).waitForServiceWorkerControl();

    await platform.stop("SIGKILL");
    await a.page.reload();
    const addressA = await a.address();
    expect(addressA, "reserved on the independent relay").toContain(`/p2p/${relay.peerId}/p2p-circuit/webrtc/`);

    // B, still reserved on that relay since before the platform died, links to A through it.
    await b.connect(addressA);
    await expect(b.peer(peerOf(addressA))).toHaveAttribute("data-state", "direct", { timeout: 20_000 });
    const check = await b.check(peerOf(addressA), 100);
    expect(check, check.text).toMatchObject({ answered: 100, requested: 100 });
  } finally {
    await platform.dispose();
    await relay.dispose();
  }
});

test("a damaged cache is named as the reason no relay is found", async ({ browser }) => {
  const platform = await PlatformProcess.start();
  try {
    const page = await (await browser.newContext()).newPage();
    const links = new PeerLinks(page);
    await links.open(platform.url);
    await links.address();
    await new AppPage(page, platform.url).waitForServiceWorkerControl();
    await platform.stop();
    await page.evaluate(() => localStorage.setItem("om.relay-directory.v1", "{not json"));
    await page.reload();
    await expect(links.status).toHaveAttribute("data-state", "no-relay", { timeout: 20_000 });
    await expect(links.status).toContainText("known relays could not be read");
  } finally {
    await platform.dispose();
  }
});
