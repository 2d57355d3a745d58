// The npm package end to end: `npm pack` of wasm/pkg, installed from the tarball into a fresh
// project with Vite and TypeScript from the registry; `tsc --noEmit` over a usage file of every
// public function; a Vite build and a plain page (import map, no bundler) each open an OPFS
// database with `openDatabase`, write and read back in headless Chromium; the Vite page's rows
// survive a reload and a browser restart; export from OPFS and import into memory in another
// page give equal rows; random bytes are the typed error; prepared statements and array rows
// through the worker.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";
import { serve } from "./serve.mjs";
import { launch } from "./chromium.mjs";

const here = import.meta.dirname;
const pkg = resolve(here, "../pkg");
const work = mkdtempSync(join(tmpdir(), "dbconfig-package-"));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "inherit"] }).toString();

try {
  // The tarball holds exactly the package's files.
  const [packed] = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", work], pkg));
  const shipped = packed.files.map((f) => f.path).sort();
  const declared = [...JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).files, "package.json"];
  const covers = (entry, file) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry);
  assert.deepEqual(shipped.filter((f) => !declared.some((d) => covers(d, f))), [], "undeclared files");
  assert.deepEqual(declared.filter((d) => !shipped.some((f) => covers(d, f))), [], "declared, not shipped");
  assert.ok(shipped.some((f) => /^snippets\/.+\/wire\.js$/.test(f)), "wasm-bindgen's snippet");
  console.log(`npm pack: ${packed.filename}, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);

  const app = join(work, "app");
  mkdirSync(app);
  cpSync(join(here, "package"), app, { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error",
    join(work, packed.filename), "vite@7", "typescript@5"], app);

  console.log("== tsc --noEmit over usage.ts");
  run(join(app, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], app);

  console.log("== vite build");
  run(join(app, "node_modules/.bin/vite"), ["build", "--outDir", "dist", "--logLevel", "warn"], app);

  async function load(context, url) {
    const page = await context.newPage();
    page.on("pageerror", (e) => console.error(`page error: ${e}`));
    await page.goto(url);
    await page.waitForFunction(() => document.title === "ready", null, { timeout: 60000 });
    const result = await page.evaluate(() => window.result);
    assert.ok(!result.error, result.error);
    return { page, result };
  }

  console.log("== Vite build: write, read back, reload, restart the browser");
  {
    const server = await serve(join(app, "dist"));
    const url = `http://127.0.0.1:${server.address().port}/`;
    const profile = join(work, "vite-profile");
    let context = await launch(profile);
    let { page, result } = await load(context, url);
    assert.equal(result.visits, 1);
    assert.ok(result.persistent && result.tagIsBytes, JSON.stringify(result));
    assert.match(result.version, /^3\.\d+\.\d+$/);
    await page.close();
    ({ page, result } = await load(context, url));
    assert.equal(result.visits, 2, "after a reload");
    await context.close();
    context = await launch(profile);
    ({ result } = await load(context, url));
    assert.equal(result.visits, 3, "after a browser restart");
    assert.deepEqual(result.ids, [1, 2, 3]);
    await context.close();
    server.close();
  }

  console.log("== plain page: write, read back; export from OPFS, import into memory elsewhere");
  {
    const server = await serve(app);
    const base = `http://127.0.0.1:${server.address().port}`;
    const context = await launch(join(work, "plain-profile"));
    const { page, result } = await load(context, `${base}/plain.html`);
    assert.equal(result.visits, 1);
    assert.ok(result.persistent && result.tagIsBytes, JSON.stringify(result));
    const exported = await page.evaluate(async () => {
      const db = await window.dbconfig.openDatabase("sqlite:///app.db");
      await db.exec("INSERT INTO visit (at, tag) VALUES ($1, $2)", ["2026-12-04", new Uint8Array([9])]);
      const bytes = await db.export();
      const rows = await db.query("SELECT id, at, hex(tag) AS tag FROM visit ORDER BY id");
      await db.close();
      return { bytes: Array.from(bytes), rows };
    });
    assert.equal(exported.rows.length, 2);

    const other = await load(context, `${base}/plain.html#memory-only`);
    const imported = await other.page.evaluate(async (bytes) => {
      const api = window.dbconfig;
      const db = await api.importDatabase("sqlite://", new Uint8Array(bytes));
      const rows = await db.query("SELECT id, at, hex(tag) AS tag FROM visit ORDER BY id");
      const caught = async (work) => {
        try {
          await work();
          return null;
        } catch (e) {
          return { name: e.name, kind: e.kind, code: e.code, message: e.message };
        }
      };
      const random = crypto.getRandomValues(new Uint8Array(4096));
      const notADatabase = await caught(() => api.importDatabase("sqlite://", random));
      const badSql = await caught(() => db.exec("SELEC 1"));
      // A transaction whose work throws keeps nothing.
      const thrown = await caught(() => db.withTransaction(async (tx) => {
        await tx.exec("INSERT INTO visit (at) VALUES ('in a failed transaction')");
        throw new Error("boom");
      }));
      const [{ n }] = await db.query("SELECT count(*) AS n FROM visit");
      // Prepared once in the worker, run with parameters only; rows as arrays.
      const stmt = await db.prepare("SELECT id, hex(tag) AS tag FROM visit WHERE id >= $1 ORDER BY id");
      const prepared = { values: await stmt.values([1]), all: await stmt.all([1]), columns: await stmt.columns() };
      await stmt.finalize();
      const finalized = await caught(() => stmt.values([1]));
      const arrays = await db.queryArrays("SELECT id, hex(tag) FROM visit ORDER BY id");
      return { rows, notADatabase, badSql, thrown, n, inMemory: await db.isInMemory(),
        prepared, finalized, arrays };
    }, exported.bytes);
    assert.deepEqual(imported.rows, exported.rows);
    assert.ok(imported.inMemory);
    assert.equal(imported.notADatabase.name, "DbconfigError");
    assert.equal(imported.notADatabase.kind, "InvalidArgument");
    assert.match(imported.notADatabase.message, /not a SQLite database/);
    assert.equal(imported.badSql.kind, "Sqlite");
    assert.equal(imported.badSql.code, 1);
    assert.equal(imported.thrown.message, "boom");
    assert.equal(imported.n, 2);
    const expected = exported.rows.map((r) => [r.id, r.tag]);
    assert.deepEqual(imported.prepared.values, expected);
    assert.deepEqual(imported.prepared.all, exported.rows.map(({ id, tag }) => ({ id, tag })));
    assert.deepEqual(imported.prepared.columns, ["id", "tag"]);
    assert.equal(imported.finalized.kind, "InvalidArgument");
    assert.deepEqual(imported.arrays, expected);
    await context.close();
    server.close();
  }
  console.log("== package: all checks passed");
} finally {
  rmSync(work, { recursive: true, force: true });
}
