// Runs www/bench.html in headless Chromium and prints its JSON result (one line).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serve } from "./serve.mjs";
import { launch } from "./chromium.mjs";

const server = await serve(resolve(import.meta.dirname, "../www"));
const profile = mkdtempSync(join(tmpdir(), "dbconfig-bench-"));
try {
  const context = await launch(profile);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${server.address().port}/bench.html`);
  const result = await page.waitForFunction(() => window.benchResult, null, { timeout: 300000 });
  console.log(JSON.stringify(await result.jsonValue()));
  await context.close();
} finally {
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
