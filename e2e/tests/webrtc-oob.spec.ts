import { expect, test } from "../fixtures/platform";
import { PeerLinks } from "../fixtures/peer-links";

// Two devices (browser contexts) of the app with no server at all: once the pages are loaded the
// platform, and with it the relay, is stopped. A makes an invitation, B answers it, each text
// passed by the test as a user would copy it, and the pair gets a direct WebRTC link that carries
// connection checks of 1,000 request-response messages each way. Each text is also shown as a QR
// code, read back here to the same text.

const MESSAGES = 1_000;

test("two devices link directly out of band with no relay running, the texts passed by hand", async ({ browser, platform }) => {
  test.setTimeout(120_000);
  const [a, b] = await Promise.all(
    [0, 1].map(async () => {
      const links = new PeerLinks(await (await browser.newContext()).newPage());
      await links.open(platform.url);
      return links;
    }),
  );
  const [idA, idB] = await Promise.all([a.peerId(), b.peerId()]);

  await platform.stop();
  await expect(a.status).toHaveAttribute("data-state", "no-relay", { timeout: 20_000 });
  await expect(b.status).toHaveAttribute("data-state", "no-relay", { timeout: 20_000 });

  const invitation = await a.invite();
  const answer = await b.answerInvitation(invitation, idA);
  const [invitationQr, answerQr] = [await a.qrCode("oob-invitation-qr"), await b.qrCode("oob-answer-qr")];
  expect(invitationQr).toMatchObject({ level: "M", text: invitation });
  expect(answerQr).toMatchObject({ level: "M", text: answer });
  console.log(`QR: invitation ${invitation.length} chars, version ${invitationQr.version}; answer ${answer.length} chars, version ${answerQr.version}`);
  await a.acceptAnswer(answer, idB);

  await expect(a.peer(idB)).toHaveAttribute("data-state", "direct", { timeout: 20_000 });
  await expect(b.peer(idA)).toHaveAttribute("data-state", "direct", { timeout: 20_000 });
  const [fromA, fromB] = await Promise.all([a.check(idB, MESSAGES), b.check(idA, MESSAGES)]);
  expect(fromA, fromA.text).toMatchObject({ answered: MESSAGES, requested: MESSAGES });
  expect(fromB, fromB.text).toMatchObject({ answered: MESSAGES, requested: MESSAGES });
});

test("an invitation answered for the wrong device id is refused", async ({ browser, platform }) => {
  const [a, b, c] = await Promise.all(
    [0, 1, 2].map(async () => {
      const links = new PeerLinks(await (await browser.newContext()).newPage());
      await links.open(platform.url);
      return links;
    }),
  );
  const idC = await c.peerId();
  const invitation = await a.invite();
  // B believes the invitation comes from C: the signature names A, so B refuses it.
  await b.page.getByTestId("oob-peer").fill(idC);
  await b.page.getByTestId("oob-received").fill(invitation);
  await b.page.getByTestId("oob-answer").click();
  await expect(b.page.getByTestId("oob-problem")).toBeVisible({ timeout: 20_000 });
  await expect(b.page.getByTestId("oob-answer-text")).toHaveCount(0);
});
