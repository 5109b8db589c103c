import type { Page } from "@playwright/test";
import { expect, test } from "../fixtures/platform";

// Proves the test environment for the libp2p WebRTC transport: two browser contexts in the
// suite's network namespace connect a data channel over a host candidate, no server involved.

async function gatheredDescription(page: Page, role: "offer" | "answer", remote?: RTCSessionDescriptionInit) {
  return page.evaluate(
    async ({ role, remote }) => {
      const pc = new RTCPeerConnection({ iceServers: [] });
      (window as any).pc = pc;
      (window as any).received = new Promise<string>((resolve) => {
        const onChannel = (channel: RTCDataChannel) => {
          (window as any).channel = channel;
          channel.onmessage = (event) => resolve(String(event.data));
        };
        if (role === "offer") {
          const channel = pc.createDataChannel("test");
          channel.onopen = () => channel.send("안녕하세요 from offerer");
          onChannel(channel);
        } else {
          // The answerer replies to the offerer's greeting rather than writing at once: under load
          // Chromium may announce the channel open to the answerer before the offerer's side is,
          // and drops a message that reaches the offerer before its open event.
          pc.ondatachannel = (event) => {
            onChannel(event.channel);
            event.channel.addEventListener("message", () => event.channel.send("반갑습니다 from answerer"));
          };
        }
      });
      if (remote) await pc.setRemoteDescription(remote);
      await pc.setLocalDescription(role === "offer" ? await pc.createOffer() : await pc.createAnswer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
      });
      return pc.localDescription!.toJSON() as RTCSessionDescriptionInit;
    },
    { role, remote },
  );
}

/** The greeting the page received or, if none comes within 20 s, the connection's states. */
async function receivedOrState(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const pc = (window as any).pc as RTCPeerConnection;
    const channel = (window as any).channel as RTCDataChannel | undefined;
    const states = () =>
      `nothing received: connection ${pc.connectionState}, ICE ${pc.iceConnectionState}, ` +
      `channel ${channel?.readyState ?? "not announced"}`;
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(states()), 20_000));
    return Promise.race([(window as any).received as Promise<string>, timeout]);
  });
}

test("two browser contexts open a WebRTC data channel over the namespace's host address", async ({ browser, platform }) => {
  const hostAddress = process.env.TEST_HOST_ADDR;
  expect(hostAddress, "the suite runs in the network namespace").toBeTruthy();
  const [a, b] = await Promise.all([browser.newContext(), browser.newContext()]);
  const [pageA, pageB] = await Promise.all([a.newPage(), b.newPage()]);
  await Promise.all([pageA.goto(platform.url), pageB.goto(platform.url)]);

  const offer = await gatheredDescription(pageA, "offer");
  expect(offer.sdp).toContain(`a=candidate:`);
  expect(offer.sdp).toContain(` ${hostAddress} `);
  const answer = await gatheredDescription(pageB, "answer", offer);
  await pageA.evaluate((answer) => (window as any).pc.setRemoteDescription(answer), answer);

  expect(await receivedOrState(pageA)).toBe("반갑습니다 from answerer");
  expect(await receivedOrState(pageB)).toBe("안녕하세요 from offerer");

  const localAddress = await pageA.evaluate(async () => {
    const stats = await ((window as any).pc as RTCPeerConnection).getStats();
    let pairLocalId = "";
    stats.forEach((report) => {
      if (report.type === "candidate-pair" && report.state === "succeeded" && report.nominated) pairLocalId = report.localCandidateId;
    });
    return stats.get(pairLocalId)?.address;
  });
  expect(localAddress).toBe(hostAddress);
  await Promise.all([a.close(), b.close()]);
});
