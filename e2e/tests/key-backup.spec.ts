import { readFileSync } from "node:fs";
import { DevicePage } from "../fixtures/device-page";
import { expect, test } from "../fixtures/platform";

const PASSPHRASE = "여름 바다 2026 수박";

test("a key backup made on one device restores that identity on another; a wrong passphrase replaces nothing", async ({
  browser,
  platform,
}) => {
  // Three key derivations (about a second each on a quiet machine, several on a busy one).
  test.slow();
  const sourceContext = await browser.newContext();
  const source = new DevicePage(await sourceContext.newPage(), platform.url);
  const original = await source.identity();

  await source.page.getByTestId("backup-passphrase").fill(PASSPHRASE);
  await source.page.getByTestId("backup-passphrase-repeat").fill(`${PASSPHRASE}!`);
  await source.page.getByTestId("backup-create").click();
  await expect(source.page.getByTestId("backup-error")).toHaveText("두 암호가 다릅니다.");
  const backup = await source.createBackup(PASSPHRASE);
  expect(backup).toMatch(/^OMKEY:[A-Za-z0-9_-]{108}$/);
  const [download] = await Promise.all([
    source.page.waitForEvent("download"),
    source.page.getByTestId("backup-download").click(),
  ]);
  expect(readFileSync(await download.path(), "utf8")).toBe(backup);
  await sourceContext.close();

  const targetContext = await browser.newContext();
  const target = new DevicePage(await targetContext.newPage(), platform.url);
  const own = await target.identity();
  expect(own).not.toBe(original);

  await target.openBackup(backup, "여름 바다 2026 참외");
  const error = target.page.getByTestId("restore-error");
  await expect(error).toHaveText("암호가 틀렸습니다. 아무것도 바뀌지 않았습니다.", { timeout: 30_000 });
  await target.page.getByTestId("language-en").check();
  await expect(error).toHaveText("The passphrase is wrong. Nothing was changed.");
  await expect(target.page.getByTestId("restore-confirm")).toHaveCount(0);
  await expect(target.fingerprint).toHaveText(own);
  await target.page.reload();
  await expect(target.fingerprint).toHaveText(own);

  // A damaged copy is named as such, before any key derivation.
  await target.openBackup(backup.slice(0, -3), PASSPHRASE);
  await expect(error).toContainText("damaged");

  // The right passphrase asks first; cancelling keeps this device's key.
  await target.openBackup(backup, PASSPHRASE);
  const confirm = target.page.getByTestId("restore-confirm");
  await expect(target.page.getByTestId("restore-backup-key")).toHaveText(original, { timeout: 30_000 });
  await expect(confirm).toContainText(own);
  await target.page.getByTestId("restore-cancel").click();
  await expect(confirm).toHaveCount(0);
  await target.page.reload();
  await expect(target.fingerprint).toHaveText(own);

  await target.openBackup(backup, PASSPHRASE);
  await target.page.getByTestId("restore-replace").click({ timeout: 30_000 });
  await expect(target.fingerprint).toHaveText(original);
  await target.page.reload();
  await expect(target.fingerprint).toHaveText(original);

  // The same backup again: nothing to replace.
  await target.openBackup(backup, PASSPHRASE);
  await expect(target.page.getByTestId("restore-same")).toBeVisible({ timeout: 30_000 });
  await targetContext.close();
});
