import type { BrowserContext } from "@playwright/test";
import { PeerLinks, peerOf } from "../fixtures/peer-links";
import { PlatformProcess, expect, test } from "../fixtures/platform";

// The ICE servers the platform is configured with reach every RTCPeerConnection the app creates:
// relay-signaled (dialing and answering) and out of band (inviting and answering). The browser's
// own RTCPeerConnection is only subclassed to remember each instance; its configuration is read
// back with getConfiguration(). Nothing answers at these addresses: host candidates still link
// the devices in the test namespace.

const STUN = "stun:10.213.0.1:3478";
const TURN = "turn:10.213.0.1:3479?transport=udp";
const EXPECTED = [
  { urls: [STUN], username: "", credential: "" },
  { urls: [TURN], username: "e2e-user", credential: "e2e-credential" },
];

async function recordingPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const created: RTCPeerConnection[] = [];
    (window as unknown as { createdPeerConnections: RTCPeerConnection[] }).createdPeerConnections = created;
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(configuration?: RTCConfiguration) {
        super(configuration);
        created.push(this);
      }
    };
  });
}

/** The ICE servers of every RTCPeerConnection the page created, as the browser holds them. */
function iceServersOf(links: PeerLinks): Promise<RTCIceServer[][]> {
  return links.page.evaluate(() =>
    (window as unknown as { createdPeerConnections: RTCPeerConnection[] }).createdPeerConnections.map((pc) =>
      (pc.getConfiguration().iceServers ?? []).map((s) => ({
        urls: typeof s.urls === "string" ? [s.urls] : [...s.urls],
        username: s.username ?? "",
        credential: s.credential ?? "",
      })),
    ),
  );
}

test("every peer connection of the app uses the ICE servers the platform serves", async ({ browser }) => {
  test.setTimeout(120_000);
  const env = {
    PLATFORM_ICE_SERVERS: `${STUN},${TURN}`,
    PLATFORM_TURN_USERNAME: "e2e-user",
    PLATFORM_TURN_CREDENTIAL: "e2e-credential",
  };
  Object.assign(process.env, env);
  const platform = await PlatformProcess.start().finally(() => {
    for (const name of Object.keys(env)) delete process.env[name];
  });
  try {
    const [a, b, c] = await Promise.all(
      [0, 1, 2].map(async () => {
        const context = await browser.newContext();
        await recordingPeerConnections(context);
        const links = new PeerLinks(await context.newPage());
        await links.open(platform.url);
        return links;
      }),
    );
    // Through the relay: B dials A, A answers.
    const [addressA] = await Promise.all([a.address(), b.address()]);
    await b.connect(addressA);
    const peerA = peerOf(addressA);
    const idB = await b.peerId();
    await expect(b.peer(peerA)).toHaveAttribute("data-state", "direct", { timeout: 20_000 });
    await expect(a.peer(idB)).toHaveAttribute("data-state", "direct");
    // Out of band: A invites, C answers.
    const idC = await c.peerId();
    const answer = await c.answerInvitation(await a.invite(), peerA);
    await a.acceptAnswer(answer, idC);
    await expect(a.peer(idC)).toHaveAttribute("data-state", "direct", { timeout: 20_000 });

    const [ofA, ofB, ofC] = await Promise.all([a, b, c].map(iceServersOf));
    expect(ofA.length, "A answered B and invited C").toBe(2);
    expect(ofB.length, "B dialed A").toBe(1);
    expect(ofC.length, "C answered A").toBe(1);
    for (const servers of [...ofA, ...ofB, ...ofC]) expect(servers).toEqual(EXPECTED);
  } finally {
    await platform.dispose();
  }
});
