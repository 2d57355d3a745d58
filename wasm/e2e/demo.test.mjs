// End to end: drives the demo page in headless Chromium, checks what it shows, reloads, checks
// the rows survived (OPFS), restarts the browser, checks again, and saves screenshots.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { serve } from "./serve.mjs";
import { launch } from "./chromium.mjs";

const root = resolve(import.meta.dirname, "../www");
const artifacts = resolve(import.meta.dirname, "../artifacts");
mkdirSync(artifacts, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "dbconfig-demo-"));
const server = await serve(root);
const url = `http://127.0.0.1:${server.address().port}/`;

async function page(context) {
  const p = context.pages()[0] ?? (await context.newPage());
  p.on("pageerror", (e) => { throw e; });
  await p.goto(url);
  return p;
}

async function click(p, id, expect) {
  await p.click(`#${id}`);
  await p.waitForFunction(
    (re) => new RegExp(re).test(document.getElementById("status").textContent),
    expect.source, { timeout: 30000 });
  const text = await p.textContent("#status");
  assert.ok(!text.startsWith("error"), text);
  return text;
}

try {
  let context = await launch(profile);
  let p = await page(context);
  const opened = await click(p, "setup", /^open:/);
  assert.match(opened, /open: 32 tables, journal_mode=delete, foreign_keys=1, persistent=true, differences from the schema: 0/);
  await click(p, "add", /^added 3 flows/);
  const shown = await click(p, "show", /^\d+ flows/);
  assert.equal(shown, "3 flows");
  const cells = await p.$$eval("#results tbody tr td:first-child", (tds) => tds.map((td) => td.textContent));
  assert.equal(cells.length, 3);
  assert.ok(cells.every((c) => /^(etl|report|backup)-/.test(c)), cells.join());
  await p.screenshot({ path: join(artifacts, "demo.png"), fullPage: true });

  // Reload: the rows are still there.
  p = await page(context);
  await click(p, "setup", /^open:/);
  assert.equal(await click(p, "show", /^\d+ flows/), "3 flows");

  // A new browser process on the same profile: still there.
  await context.close();
  context = await launch(profile);
  p = await page(context);
  await click(p, "setup", /^open:/);
  assert.equal(await click(p, "show", /^\d+ flows/), "3 flows");
  await p.screenshot({ path: join(artifacts, "demo-after-restart.png"), fullPage: true });
  await click(p, "clear", /^schema dropped/);
  await context.close();
  console.log(`demo e2e passed; screenshots in ${artifacts}`);
} finally {
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
