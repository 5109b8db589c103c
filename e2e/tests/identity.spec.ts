import type { Page } from "@playwright/test";
import { DevicePage, FINGERPRINT, fingerprintOf } from "../fixtures/device-page";
import { expect, test } from "../fixtures/platform";

/** The schema the app's database is at: `DB_VERSION` in store-indexeddb/src/db.rs. */
const SCHEMA_VERSION = 3;

/** What the device database holds, read the way any page script could (without creating it). */
function storedRecords(page: Page): Promise<{ version: number; identity: number; contacts: number }> {
  return page.evaluate(async () => {
    const databases = await indexedDB.databases();
    if (!databases.some((db) => db.name === "om-device")) return { version: 0, identity: 0, contacts: 0 };
    return new Promise((resolve, reject) => {
      const open = indexedDB.open("om-device");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains("identity")) {
          db.close();
          resolve({ version: db.version, identity: 0, contacts: 0 });
          return;
        }
        const tx = db.transaction(["identity", "contacts"]);
        const identity = tx.objectStore("identity").count();
        const contacts = tx.objectStore("contacts").count();
        tx.oncomplete = () => {
          db.close();
          resolve({ version: db.version, identity: identity.result, contacts: contacts.result });
        };
        tx.onerror = () => reject(tx.error);
      };
    });
  });
}

test("the device identity and the user's contacts survive reloads and a reopened context", async ({ browser, platform }) => {
  // A friend's device, to add as a contact.
  const friendContext = await browser.newContext();
  const friendKey = await new DevicePage(await friendContext.newPage(), platform.url).ownContactKey();
  await friendContext.close();
  expect(friendKey).toMatch(/^[0-9a-f]{64}$/);

  const first = await browser.newContext();
  const device = new DevicePage(await first.newPage(), platform.url);
  const created = await device.identity();
  expect(fingerprintOf(await device.contactKey.innerText())).toBe(created);
  expect(await storedRecords(device.page)).toEqual({ version: SCHEMA_VERSION, identity: 1, contacts: 0 });

  // Something that is no key is refused, and nothing is stored.
  await device.addContact("1234 not a key", "민지");
  await expect(device.page.getByTestId("contact-error")).toContainText("연락처 키가 아닙니다");
  await expect(device.contacts).toHaveCount(0);

  await device.addContact(friendKey, "민지");
  await expect(device.contacts).toHaveCount(1);
  await expect(device.page.getByTestId("contact-name")).toHaveText("민지");
  await expect(device.page.getByTestId("contact-fingerprint")).toHaveText(fingerprintOf(friendKey));

  await device.page.reload();
  await expect(device.page.getByTestId("contact-name")).toHaveText("민지");
  expect(await device.identity()).toBe(created);

  const state = await first.storageState({ indexedDB: true });
  expect(state.origins.some((origin) => origin.indexedDB?.some((db) => db.name === "om-device"))).toBe(true);
  await first.close();

  const reopened = await browser.newContext({ storageState: state });
  const again = new DevicePage(await reopened.newPage(), platform.url);
  expect(await again.identity()).toBe(created);
  await again.goto();
  await expect(again.contacts).toHaveCount(1);
  await expect(again.page.getByTestId("contact-name")).toHaveText("민지");
  await expect(again.page.getByTestId("contact-fingerprint")).toHaveText(fingerprintOf(friendKey));
  expect(await storedRecords(again.page)).toEqual({ version: SCHEMA_VERSION, identity: 1, contacts: 1 });
  await reopened.close();

  // Another device (empty storage) gets a key of its own.
  const other = await browser.newContext();
  expect(await new DevicePage(await other.newPage(), platform.url).identity()).not.toBe(created);
  await other.close();
});

test("a full disk is reported in Korean and English, and nothing is half-written", async ({ browser, platform }) => {
  const context = await browser.newContext({ locale: "ko-KR" });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const origin = new URL(platform.url).origin;
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 1 });

  await page.goto(new URL("/settings", platform.url).toString());
  const alert = page.getByTestId("storage-alert");
  await expect(alert).toHaveAttribute("data-kind", "full");
  await expect(alert).toContainText("저장 공간이 가득 찼습니다");
  await page.getByTestId("language-en").check();
  await expect(alert).toContainText("storage is full");
  await expect(page.getByTestId("device-fingerprint")).toHaveCount(0);
  expect((await storedRecords(page)).identity).toBe(0);

  await cdp.send("Storage.overrideQuotaForOrigin", { origin });
  await page.reload();
  await expect(page.getByTestId("device-fingerprint")).toHaveText(FINGERPRINT);
  await expect(alert).toHaveCount(0);
  await context.close();
});
