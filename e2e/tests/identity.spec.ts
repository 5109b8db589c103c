import type { Page } from "@playwright/test";
import { expect, test } from "../fixtures/platform";

const FINGERPRINT = /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/;

async function fingerprintOn(page: Page, baseUrl: string): Promise<string> {
  await page.goto(new URL("/settings", baseUrl).toString());
  const fingerprint = page.getByTestId("device-fingerprint");
  await expect(fingerprint).toHaveText(FINGERPRINT);
  await expect(page.getByTestId("storage-alert")).toHaveCount(0);
  return (await fingerprint.textContent()) ?? "";
}

/** What the device database holds, read the way any page script could (without creating it). */
function storedRecords(page: Page): Promise<{ version: number; identity: number }> {
  return page.evaluate(async () => {
    const databases = await indexedDB.databases();
    if (!databases.some((db) => db.name === "om-device")) return { version: 0, identity: 0 };
    return new Promise((resolve, reject) => {
      const open = indexedDB.open("om-device");
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains("identity")) {
          db.close();
          resolve({ version: db.version, identity: 0 });
          return;
        }
        const count = db.transaction("identity").objectStore("identity").count();
        count.onsuccess = () => {
          db.close();
          resolve({ version: db.version, identity: count.result });
        };
        count.onerror = () => reject(count.error);
      };
    });
  });
}

test("the device identity is created once and survives reloads and a reopened context", async ({ browser, platform }) => {
  const first = await browser.newContext();
  const page = await first.newPage();
  const created = await fingerprintOn(page, platform.url);
  expect(await storedRecords(page)).toEqual({ version: 2, identity: 1 });

  await page.reload();
  await expect(page.getByTestId("device-fingerprint")).toHaveText(created);

  const state = await first.storageState({ indexedDB: true });
  expect(state.origins.some((origin) => origin.indexedDB?.some((db) => db.name === "om-device"))).toBe(true);
  await first.close();

  const reopened = await browser.newContext({ storageState: state });
  const again = await reopened.newPage();
  expect(await fingerprintOn(again, platform.url)).toBe(created);
  expect(await storedRecords(again)).toEqual({ version: 2, identity: 1 });
  await reopened.close();

  // Another device (empty storage) gets a key of its own.
  const other = await browser.newContext();
  expect(await fingerprintOn(await other.newPage(), platform.url)).not.toBe(created);
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
