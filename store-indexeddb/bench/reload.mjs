// Open-to-first-page of a 100,000-message conversation after a real page reload, which
// wasm-bindgen-test cannot measure (it never reloads its page). Run by `cargo xtask bench
// storage` (xtask/src/bench.rs) in the test namespace: node reload.mjs PAGE_DIR E2E_DIR.
//
// Serves the harness page (reload.html and the wasm-bindgen output of
// examples/reload_bench.rs, in PAGE_DIR) on loopback, seeds the conversation on a first load,
// then reloads the page: each reload is a new document that fetches and instantiates the wasm
// afresh, opens the database and reads the newest 50 messages. The page notes performance.now()
// at each step, i.e. milliseconds since that reload's navigation started. Prints one
// `BENCH {json}` line per figure.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { extname, join } from "node:path";

const MESSAGES = 100_000;
const RELOADS = 11;
// The time of the newest seeded message (examples/reload_bench.rs numbers them from 1,000).
const NEWEST = 1_000 + MESSAGES - 1;
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

const [dir, e2e] = process.argv.slice(2);
if (!dir || !e2e) throw new Error("usage: node reload.mjs PAGE_DIR E2E_DIR");
// Playwright is installed for the e2e suite; use that copy.
const { chromium } = createRequire(join(e2e, "package.json"))("@playwright/test");

const server = createServer(async (request, response) => {
  const path = new URL(request.url, "http://localhost").pathname;
  const file = path === "/" ? "reload.html" : path.slice(1);
  if (file.includes("/") || file.startsWith(".")) {
    response.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(join(dir, file));
    const type = TYPES[extname(file)] ?? "application/octet-stream";
    response.writeHead(200, { "content-type": type, "cache-control": "no-cache" }).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  const result = async () => {
    const handle = await page.waitForFunction(() => window.benchResult, null, { timeout: 900_000 });
    const value = await handle.jsonValue();
    if (value.error) throw new Error(`the harness page failed: ${value.error}`);
    return value;
  };
  await page.goto(`${base}?db=reload&seed=${MESSAGES}`);
  await result();
  await page.goto(`${base}?db=reload`);
  await result();
  const samples = [];
  for (let n = 0; n < RELOADS; n++) {
    await page.reload();
    const value = await result();
    if (value.newest !== NEWEST) throw new Error(`newest message at ${value.newest}, expected ${NEWEST}`);
    samples.push(value);
  }
  const figure = (name, of) => {
    const values = samples.map(of).sort((a, b) => a - b);
    const median = values[values.length >> 1];
    const rounded = samples.map((s) => Math.round(of(s) * 10) / 10);
    return { name, value: Math.round(median * 1000) / 1000, unit: "ms", reloads: RELOADS, samples_ms: rounded };
  };
  const lines = [
    figure("idb_reload_to_first_page_100k_median", (s) => s.first_page_ms),
    figure("idb_reload_open_and_read_100k_median", (s) => s.first_page_ms - s.wasm_ready_ms),
    figure("idb_reload_to_wasm_ready_median", (s) => s.wasm_ready_ms),
  ];
  for (const line of lines) console.log(`BENCH ${JSON.stringify(line)}`);
} finally {
  await browser.close();
  server.close();
}
