import { AppPage } from "../fixtures/app-page";
import { expect, test } from "../fixtures/platform";

test("with the network off, the app reloads from the service worker and says it is offline", async ({ page, context, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/");
  await expect(app.title).toHaveText("채팅");
  await app.waitForServiceWorkerControl();

  await context.setOffline(true);
  await page.reload();
  await expect(app.title).toHaveText("채팅");
  await expect(app.banner).toHaveAttribute("data-state", "unreachable");
  await expect(app.banner).toHaveText("플랫폼에 연결할 수 없습니다. 이 기기에서 계속 작동합니다.");

  // Another route, never visited online, is the same cached shell.
  await app.goto("/wallet");
  await expect(app.title).toHaveText("쿠폰함");

  await context.setOffline(false);
  await expect(app.banner).toHaveAttribute("data-state", "online", { timeout: 5_000 });
});

test("with the platform process gone, a fresh load still works from the cache", async ({ page, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/");
  await app.waitForServiceWorkerControl();
  await platform.stop();
  await page.reload();
  await expect(app.title).toHaveText("채팅");
  await expect(app.banner).toHaveAttribute("data-state", "unreachable");
});
