import { AppPage } from "../fixtures/app-page";
import { expect, test } from "../fixtures/platform";

test("the shell loads in Korean with four tabs, honest empty states and an online banner", async ({ page, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/");
  await expect(page.locator("html")).toHaveAttribute("lang", "ko");
  await expect(app.title).toHaveText("채팅");
  await expect(app.emptyState).toContainText("아직 대화가 없습니다");
  await expect(app.banner).toHaveAttribute("data-state", "online");
  await expect(app.banner).toHaveText("온라인");
  await expect(page.getByRole("navigation", { name: "주 메뉴" })).toBeVisible();

  // Set on this document only: still there at the end if no tab or back button reloaded the page.
  await page.evaluate(() => Object.assign(window, { sameDocument: true }));
  const tabs = [
    ["wallet", "쿠폰함", "/wallet"],
    ["merchant", "매장", "/merchant"],
    ["settings", "설정", "/settings"],
    ["chats", "채팅", "/"],
  ] as const;
  for (const [tab, title, path] of tabs) {
    await app.tab(tab).click();
    await expect(app.title).toHaveText(title);
    await expect(app.tab(tab)).toHaveAttribute("aria-current", "page");
    expect(new URL(page.url()).pathname).toBe(path);
  }
  // The browser's back button returns to the page before.
  await page.goBack();
  await expect(app.title).toHaveText("설정");
  await expect(app.tab("settings")).toHaveAttribute("aria-current", "page");
  await expect(app.tab("chats")).not.toHaveAttribute("aria-current", "page");
  expect(new URL(page.url()).pathname).toBe("/settings");
  expect(await page.evaluate(() => "sameDocument" in window)).toBe(true);
});

test("a deep link opens its page and an unknown path says so", async ({ page, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/merchant");
  await expect(app.title).toHaveText("매장");
  await app.goto("/no/such/page");
  await expect(app.title).toHaveText("페이지를 찾을 수 없습니다");
});

test("the page loads with no Content-Security-Policy violation", async ({ page, platform }) => {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
  const app = new AppPage(page, platform.url);
  await app.goto("/");
  await expect(app.title).toHaveText("채팅");
  expect(violations).toEqual([]);
});
