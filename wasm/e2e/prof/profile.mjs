// CPU profile of one browser task in headless Chromium, by function (wasm functions by name):
// 10,000 rows (id, text, 100-byte blob) inserted with `execMany` in one transaction, or 10,000
// point reads with a prepared statement, on the main thread in memory. The module is the release
// build *with* its names (wasm-opt drops them), so build that first:
//
//   bash wasm/build.sh
//   wasm-bindgen --target web --out-dir wasm/e2e/prof/pkg \
//     wasm/target/wasm32-unknown-unknown/release/dbconfig_wasm.wasm
//   node wasm/e2e/prof/profile.mjs insert|points
//
// Prints the median and fastest of 30 runs and the 40 functions with the most self time. For
// finding where time goes; speed itself is measured by wasm/bench-peers/run.mjs.
import { serve } from "../serve.mjs";
import { launch } from "../chromium.mjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const task = process.argv[2] ?? "insert";
const server = await serve(resolve(import.meta.dirname, "../.."));
const profileDir = mkdtempSync(join(tmpdir(), "dbconfig-profile-"));
const context = await launch(profileDir);
try {
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${server.address().port}/e2e/prof/index.html`);
  await page.waitForFunction(() => document.title === "ready");
  await page.evaluate((t) => window.work(t, 5), task); // warm up
  const cdp = await context.newCDPSession(page);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  await cdp.send("Profiler.start");
  const times = (await page.evaluate((t) => window.work(t, 30), task)).sort((a, b) => a - b);
  const { profile } = await cdp.send("Profiler.stop");
  console.log(`${task}: median ${times[15].toFixed(2)} ms, fastest ${times[0].toFixed(2)} ms`);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url } = nodes.get(id).callFrame;
    const key = `${functionName || "(anonymous)"} ${url.split("/").pop()}`;
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  for (const [key, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((100 * t) / total).toFixed(1).padStart(5)} % ${key}`);
  }
} finally {
  await context.close();
  server.close();
  rmSync(profileDir, { recursive: true, force: true });
}
