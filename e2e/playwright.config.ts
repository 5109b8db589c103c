import { defineConfig } from "@playwright/test";

// Run through `cargo xtask test`: it builds the PWA and the platform, and runs this suite in a
// private network namespace (see ../xtask/src/netns.rs).
export default defineConfig({
  testDir: "./tests",
  // Each test starts its own platform process; two cores take one test at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  reporter: [["list"]],
  timeout: 60_000,
  use: {
    locale: "ko-KR",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        // Real host candidates instead of mDNS names, so two contexts connect in the namespace.
        "--disable-features=WebRtcHideLocalIpsWithMdns",
      ],
    },
  },
});
