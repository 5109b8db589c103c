import { expect, test } from "../fixtures/platform";
import { PeerLinks, peerOf } from "../fixtures/peer-links";

// Two devices (browser contexts) of the app and the platform's relay, a real process: A is
// reachable through the relay, B connects to the address A shows, the pair upgrades to a direct
// WebRTC link, and connection checks of 1,000 request-response messages each way pass before and
// after the relay process is killed; when the platform comes back, both reserve a slot again.

const MESSAGES = 1_000;

test("two devices link directly through the relay, keep talking after the relay is killed, and find it again", async ({ browser, platform }) => {
  test.setTimeout(120_000);
  const [a, b] = await Promise.all(
    [0, 1].map(async () => {
      const page = await (await browser.newContext()).newPage();
      const links = new PeerLinks(page);
      await links.open(platform.url);
      return links;
    }),
  );
  const [addressA, addressB] = await Promise.all([a.address(), b.address()]);
  expect(addressA).toMatch(/\/ws\/p2p\/\w+\/p2p-circuit\/webrtc\/p2p\/\w+$/);
  const [peerA, peerB] = [peerOf(addressA), peerOf(addressB)];
  expect(peerA).not.toBe(peerB);

  await b.connect(addressA);
  await expect(b.peer(peerA)).toHaveAttribute("data-state", "direct", { timeout: 20_000 });
  await expect(a.peer(peerB)).toHaveAttribute("data-state", "direct");
  // The top bar counts the peers by path, on every page.
  await expect(b.page.getByTestId("link-summary")).toHaveAttribute("data-direct", "1");
  await expect(b.page.getByTestId("link-summary")).toHaveAttribute("data-relayed", "0");

  const [fromB, fromA] = await Promise.all([b.check(peerA, MESSAGES), a.check(peerB, MESSAGES)]);
  expect(fromB, fromB.text).toMatchObject({ answered: MESSAGES, requested: MESSAGES });
  expect(fromA, fromA.text).toMatchObject({ answered: MESSAGES, requested: MESSAGES });

  // The relay runs in the platform process: kill it (SIGKILL, nothing closed cleanly) and wait
  // until it has exited.
  await platform.stop("SIGKILL");
  await expect(a.status).toHaveAttribute("data-state", "no-relay", { timeout: 20_000 });
  await expect(b.status).toHaveAttribute("data-state", "no-relay", { timeout: 20_000 });
  await expect(b.peer(peerA)).toHaveAttribute("data-state", "direct");
  await expect(a.peer(peerB)).toHaveAttribute("data-state", "direct");

  const [afterB, afterA] = await Promise.all([b.check(peerA, MESSAGES), a.check(peerB, MESSAGES)]);
  expect(afterB, afterB.text).toMatchObject({ answered: MESSAGES, requested: MESSAGES });
  expect(afterA, afterA.text).toMatchObject({ answered: MESSAGES, requested: MESSAGES });

  // The platform comes back with its relay on a new port: both devices find it and reserve again.
  await platform.restart();
  await expect(a.status).toHaveAttribute("data-state", "reachable", { timeout: 30_000 });
  await expect(b.status).toHaveAttribute("data-state", "reachable", { timeout: 30_000 });
});

test("an address that is not a device address is refused with a message", async ({ browser, platform }) => {
  const links = new PeerLinks(await (await browser.newContext()).newPage());
  await links.open(platform.url);
  await links.connect("/ip4/127.0.0.1/tcp/1/ws");
  await expect(links.page.getByTestId("connect-error")).toBeVisible();
  await expect(links.page.getByTestId("peer-link")).toHaveCount(0);
});
