import { AppPage } from "../fixtures/app-page";
import { expect, test } from "../fixtures/platform";

// The requirement: the banner reflects a platform outage, and its end, within 5 s.
const WITHIN_5_S = { timeout: 5_000 };

test("the banner says the platform is unreachable when it stops, and online when it is back", async ({ page, platform }) => {
  const app = new AppPage(page, platform.url);
  await app.goto("/");
  await expect(app.banner).toHaveAttribute("data-state", "online");

  await platform.stop();
  await expect(app.banner).toHaveAttribute("data-state", "unreachable", WITHIN_5_S);
  await expect(app.banner).toHaveText("플랫폼에 연결할 수 없습니다. 이 기기에서 계속 작동합니다.");
  await expect(app.banner).toHaveAttribute("role", "status");

  await platform.restart();
  await expect(app.banner).toHaveAttribute("data-state", "online", WITHIN_5_S);
  await expect(app.banner).toHaveText("온라인");
});
