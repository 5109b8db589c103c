import { AppPage } from "../fixtures/app-page";
import { expect, test } from "../fixtures/platform";

test("switching to English in Settings changes every label and survives a reload", async ({ page, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/settings");
  await expect(app.language("ko")).toBeChecked();
  await app.language("en").check();
  await expect(app.title).toHaveText("Settings");
  await expect(page.locator("html")).toHaveAttribute("lang", "en");
  await expect(app.tab("wallet")).toHaveText("Wallet");
  await expect(app.banner).toHaveText("Online");

  await page.reload();
  await expect(app.title).toHaveText("Settings");
  await expect(app.language("en")).toBeChecked();

  await app.language("ko").check();
  await expect(app.title).toHaveText("설정");
});

test.describe("with a browser that prefers English", () => {
  test.use({ locale: "en-US" });

  test("the app starts in English", async ({ page, platform }) => {
    const app = new AppPage(page, platform.url);
    await app.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(app.title).toHaveText("Chats");
    await expect(app.emptyState).toContainText("No conversations yet");
  });
});
