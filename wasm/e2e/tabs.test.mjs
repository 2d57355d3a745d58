// Several tabs on one OPFS database (headless Chromium, one browser context): pages A and B
// each run 500 write transactions on sqlite:///tabs.db through the package's worker API; A
// opened first, so A's worker holds the database and B's calls go to it. Mid-load A closes:
// B's worker takes over, B goes on, and a new page A' finishes A's share next to B. Checked at
// the end: every (tab, i) row exactly once, every transaction A or B saw committed is there,
// the shared counter equals the row count (each transaction atomic and isolated from the other
// tab's), and the two tabs' transactions interleaved. Then a tab that closes inside a
// transaction: it is rolled back and the others go on.
// Run after `bash wasm/build.sh` (serves wasm/ with its pkg/).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { serve } from "./serve.mjs";
import { launch } from "./chromium.mjs";

const COUNT = 500;
const here = import.meta.dirname;
const work = mkdtempSync(join(tmpdir(), "dbconfig-tabs-"));
const server = await serve(resolve(here, ".."));
const url = `http://127.0.0.1:${server.address().port}/e2e/tabs/index.html`;
const context = await launch(join(work, "profile"));

async function page(name) {
  const p = await context.newPage();
  p.on("pageerror", (e) => console.error(`${name}: page error: ${e}`));
  await p.goto(url);
  await p.waitForFunction(() => document.title === "ready");
  return p;
}

const progress = (p) => p.evaluate(() => ({ ...window.state, committed: [...window.state.committed] }));

/** Waits until page `p` has committed more than `n` transactions (all: `Infinity`), or failed. */
async function committed(p, name, n, timeout = 60000) {
  await p.waitForFunction((n) => window.state.committed.length > n || window.state.finished ||
    window.state.error, n, { timeout });
  const state = await progress(p);
  assert.equal(state.error, null, `${name}: ${state.error}`);
  return state;
}
const finished = (p, name) => committed(p, name, Infinity, 120000);

try {
  const a = await page("A");
  await a.evaluate((n) => window.writer("A", n), COUNT);
  const b = await page("B");
  await b.evaluate((n) => window.writer("B", n), COUNT);

  // Both write; close the holder once each has a good share committed.
  await committed(a, "A", 150);
  await committed(b, "B", 100);
  const seenByA = await progress(a);
  const beforeClose = (await progress(b)).committed.length;
  const closedAt = performance.now();
  await a.close();
  console.log(`closed the holder page A after ${seenByA.committed.length} of its transactions ` +
    `(B had ${beforeClose})`);

  // B goes on as the new holder; A' (A reloaded) finishes A's share through B.
  await committed(b, "B", beforeClose, 30000);
  console.log(`B committed again ${Math.round(performance.now() - closedAt)} ms after A closed`);
  const a2 = await page("A'");
  await a2.evaluate((n) => window.writer("A", n), COUNT);
  const [stateB, stateA2] = [await finished(b, "B"), await finished(a2, "A'")];
  console.log(`B: ${stateB.committed.length} committed, ${stateB.retries} retried after ` +
    `HolderChanged; A': ${stateA2.retries} retried`);
  assert.equal(stateB.committed.length, COUNT);
  assert.equal(stateA2.committed.length, COUNT);

  const check = await b.evaluate(async () => {
    const { db } = window;
    return {
      twice: await db.query("SELECT tab, i, count(*) AS n FROM item GROUP BY tab, i HAVING n > 1"),
      perTab: await db.query(`SELECT tab, count(*) AS n, min(i) AS lo, max(i) AS hi FROM item
        GROUP BY tab ORDER BY tab`),
      counter: (await db.query("SELECT n FROM counter WHERE id = 1"))[0].n,
      order: (await db.queryArrays("SELECT tab, i FROM item ORDER BY seq")),
      persistent: await db.isPersistent(),
      prepared: [await window.countOf.values(["A"]), await window.countOf.values(["B"])],
    };
  });
  assert.ok(check.persistent);
  assert.deepEqual(check.prepared, [[[COUNT]], [[COUNT]]], "a statement prepared before the holder changed");
  assert.deepEqual(check.twice, [], "a row written twice");
  assert.deepEqual(check.perTab, [
    { tab: "A", n: COUNT, lo: 0, hi: COUNT - 1 },
    { tab: "B", n: COUNT, lo: 0, hi: COUNT - 1 },
  ]);
  assert.equal(check.counter, 2 * COUNT, "the counter lost an update: a transaction was not isolated");
  const present = new Set(check.order.filter(([tab]) => tab === "A").map(([, i]) => i));
  assert.ok(seenByA.committed.every((i) => present.has(i)), "a row A saw committed is missing");
  // Interleaved: the rows of the first phase alternate between the tabs many times.
  let switches = 0;
  for (let k = 1; k < check.order.length; k++) if (check.order[k][0] !== check.order[k - 1][0]) switches++;
  console.log(`rows in commit order switch tab ${switches} times`);
  assert.ok(switches >= 50, `the tabs' transactions did not interleave (${switches} switches)`);

  // A tab that dies inside a transaction: A' (a client now) leaves one open and closes; the
  // holder rolls it back when A''s lock goes, and B's next write does not wait for it.
  await a2.evaluate(() => window.hang());
  const blocked = b.evaluate(() => window.db.exec("INSERT INTO item (tab, i) VALUES ('after', 0)")
    .then(() => "written", (e) => `${e.kind}: ${e.message}`));
  await a2.close();
  assert.equal(await blocked, "written", "a write waited out a dead tab's transaction");
  const after = await b.evaluate(async () => window.db.query(
    "SELECT tab, count(*) AS n FROM item WHERE tab IN ('hung', 'after') GROUP BY tab"));
  assert.deepEqual(after, [{ tab: "after", n: 1 }], "the dead tab's insert was kept");
  console.log("== tabs: all checks passed");
} finally {
  await context.close();
  server.close();
  rmSync(work, { recursive: true, force: true });
}
