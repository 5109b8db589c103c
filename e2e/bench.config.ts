import { defineConfig } from "@playwright/test";
import suite from "./playwright.config";

// Benchmarks of the whole app, run by `cargo xtask bench webrtc` in the test namespace: each
// prints `BENCH {json}` lines for bench-results/ and asserts no time.
export default defineConfig({ ...suite, testDir: "./bench", timeout: 600_000 });
