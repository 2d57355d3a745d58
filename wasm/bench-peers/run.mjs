// The browser benchmark against the peers users would pick: dbconfig-wasm, sql.js, the official
// @sqlite.org/sqlite-wasm (oo1 API; opfs-sahpool for OPFS) and wa-sqlite, each through its own
// public JS API, the same work in one headless Chromium run (bench.html, harness.js), five rounds
// with the engines in rotating order (each round every engine once); plus the gzip size of each one's wasm and JS glue. Prints a Markdown table and writes it to
// benches/results/<date>-browser-peers.md.
//
//   bash wasm/build.sh && node wasm/bench-peers/run.mjs
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { serve } from "../e2e/serve.mjs";
import { launch } from "../e2e/chromium.mjs";

const here = import.meta.dirname;
if (!existsSync(join(here, "node_modules/sql.js"))) {
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: here, stdio: "inherit" });
}
const version = (pkg) => JSON.parse(readFileSync(join(here, "node_modules", pkg, "package.json"), "utf8")).version;
const gz = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
const nm = (p) => join(here, "node_modules", p);
const pkg = (p) => resolve(here, "../pkg", p);
const sizes = {
  dbconfig: gz([pkg("dbconfig_wasm_bg.wasm"), pkg("dbconfig_wasm.js"), pkg("index.js"), pkg("client.js"), pkg("worker.js"),
    ...readdirSync(pkg("snippets"), { recursive: true }).filter((f) => f.endsWith(".js")).map((f) => pkg(join("snippets", f)))]),
  "sql.js": gz([nm("sql.js/dist/sql-wasm.wasm"), nm("sql.js/dist/sql-wasm.js")]),
  official: gz([nm("@sqlite.org/sqlite-wasm/dist/sqlite3.wasm"), nm("@sqlite.org/sqlite-wasm/dist/index.mjs")]),
  "wa-sqlite": gz([nm("wa-sqlite/dist/wa-sqlite.wasm"), nm("wa-sqlite/dist/wa-sqlite.mjs"), nm("wa-sqlite/src/sqlite-api.js")]),
};

const server = await serve(resolve(here, ".."));
const profile = mkdtempSync(join(tmpdir(), "dbconfig-peers-"));
let results;
try {
  const context = await launch(profile);
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${server.address().port}/bench-peers/bench.html`);
  results = await (await page.waitForFunction(() => window.peerResults, null, { timeout: 600000 })).jsonValue();
  await context.close();
} finally {
  server.close();
  rmSync(profile, { recursive: true, force: true });
}

const kib = (n) => `${Math.round(n / 1024)} KiB`;
const rounds = Math.max(...results.map((r) => r.round)) + 1;
// Per engine: the median over rounds of each round's median, and the range of the rounds.
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cell = (xs) => (xs.length > 1 ? `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})` : `${xs[0]}`);
const lines = [
  `# dbconfig-wasm against its peers, headless Chromium, ${new Date().toISOString().slice(0, 10)}`,
  "",
  "Command: `bash wasm/build.sh && node wasm/bench-peers/run.mjs` (2 cores). Each engine in a fresh dedicated",
  "worker through its own public JS API; 10,000 rows (id, text, 100-byte blob); each run the median of 7 warm",
  `runs, ms; ${rounds} rounds in rotating order: median of the rounds (fastest–slowest round).`,
  `Versions: sql.js ${version("sql.js")}, @sqlite.org/sqlite-wasm ${version("@sqlite.org/sqlite-wasm")}, wa-sqlite ${version("wa-sqlite")}.`,
  "",
  "| engine | insert 10k (1 tx) | read 10k as arrays | 10k point reads | cold start to first query | gzip wasm + JS |",
  "|---|---:|---:|---:|---:|---:|",
];
const engines = [...new Set(results.map((r) => r.engine))];
for (const engine of engines) {
  const runs = results.filter((r) => r.engine === engine);
  const family = engine.split(" ")[0];
  const failed = runs.find((r) => r.error);
  if (failed) {
    lines.push(`| ${engine} | error: ${failed.error} | | | | |`);
    continue;
  }
  const col = (key) => cell(runs.map((r) => r[key]));
  lines.push(`| ${engine} | ${col("insert_ms")} | ${col("read_ms")} | ${col("point_reads_ms")} | ${col("cold_start_ms")} | ${kib(sizes[family])} |`);
}
lines.push("", "Per round (round 1 first, in the just-started browser), insert / read / point reads / cold start:", "");
for (const engine of engines) {
  const runs = results.filter((r) => r.engine === engine && !r.error);
  const per = runs.map((r) => `${r.insert_ms} / ${r.read_ms} / ${r.point_reads_ms} / ${r.cold_start_ms}`);
  lines.push(`- ${engine}: ${per.join("; ")}`);
}
const text = lines.join("\n") + "\n";
console.log(text);
const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
const out = resolve(here, "../../benches/results", `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}_${stamp.slice(9, 15)}-browser-peers.md`);
writeFileSync(out, text);
console.log(`written ${out}`);
