import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppPage } from "../fixtures/app-page";
import { expect, test } from "../fixtures/platform";

test("a new deployment is offered as a reload, then served whole", async ({ page, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/");
  await app.waitForServiceWorkerControl();
  const [oldCache] = await app.cacheNames();
  expect(oldCache).toMatch(/^om-shell-[0-9a-f]{16}$/);
  await expect(app.updatePrompt).toHaveCount(0);

  // Deploy: a new build changes the worker's version (and so its bytes).
  const worker = join(platform.dist, "sw.js");
  const newVersion = "0123456789abcdef";
  writeFileSync(worker, readFileSync(worker, "utf8").replace(/const VERSION = "[0-9a-f]{16}"/, `const VERSION = "${newVersion}"`));
  // The app checks every minute; ask now instead of waiting.
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());

  // Installing the new worker downloads the whole shell first: give a loaded machine time.
  await expect(app.updatePrompt).toBeVisible({ timeout: 20_000 });
  await expect(app.updatePrompt).toContainText("새 버전이 있습니다.");
  // Until the user accepts, the old version keeps serving.
  expect(await app.cacheNames()).toContain(oldCache);

  await Promise.all([page.waitForEvent("load"), page.getByTestId("update-reload").click()]);
  await expect(app.title).toHaveText("채팅");
  await expect(app.updatePrompt).toHaveCount(0);
  await expect.poll(() => app.cacheNames()).toEqual([`om-shell-${newVersion}`]);
});
