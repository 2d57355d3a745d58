// In a dedicated worker: 10,000 rows inserted in one transaction and read back as JS objects,
// the same JavaScript run against dbconfig's Database and against bare rusqlite behind the
// same surface (BareSqlite), plus a Rust-only bare rusqlite loop; for dbconfig also the read
// as arrays (queryArrays) and 10,000 autocommit point reads (query, and a prepared statement's
// values); warm runs, medians in ms.
import init, { Database, BareSqlite, baselineInsertRead } from "./pkg/dbconfig_wasm.js";

const N = 10000;
const RUNS = 9;
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const v = new Uint8Array(100).fill(7);
const rows = [];
for (let id = 1; id <= N; id++) rows.push([id, `key-${id}`, v]);
const CREATE = "DROP TABLE IF EXISTS bench_kv; CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)";
const INSERT = "INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)";
const SELECT = "SELECT id, k, v FROM bench_kv";
const POINT = "SELECT k, v FROM bench_kv WHERE id = $1";

function timed(db, begin, commit) {
  const t0 = performance.now();
  const tx = begin();
  (tx ?? db).execMany(INSERT, rows);
  commit(tx);
  const t1 = performance.now();
  const read = db.query(SELECT);
  const t2 = performance.now();
  if (read.length !== N) throw new Error(`read ${read.length} rows`);
  return [t2 - t0, t1 - t0, t2 - t1];
}

async function dbconfigRun(url) {
  const db = await Database.open(url);
  db.exec(CREATE);
  const t = timed(db, () => db.transaction(true), (tx) => tx.commit());
  // Rows as arrays; 10,000 autocommit point reads, through `query` and a prepared statement.
  let t0 = performance.now();
  if (db.queryArrays(SELECT).length !== N) throw new Error("queryArrays");
  const arrays = performance.now() - t0;
  t0 = performance.now();
  for (let id = 1; id <= N; id++) db.query(POINT, [id]);
  const points = performance.now() - t0;
  const stmt = db.prepare(POINT);
  t0 = performance.now();
  for (let id = 1; id <= N; id++) stmt.values([id]);
  const prepared = performance.now() - t0;
  stmt.finalize();
  db.close();
  return [...t, arrays, points, prepared];
}

function bareRun() {
  const db = BareSqlite.open();
  db.exec(CREATE);
  return timed(db, () => { db.exec("BEGIN IMMEDIATE"); return null; }, () => db.exec("COMMIT"));
}

function rustOnlyRun() {
  const t0 = performance.now();
  if (baselineInsertRead(N) !== N) throw new Error("baseline read");
  return [performance.now() - t0, 0, 0];
}

try {
  await init();
  const result = { rows: N, runs: RUNS };
  for (const [name, run] of [
    ["bare_rusqlite", () => bareRun()],
    ["dbconfig_memory", () => dbconfigRun("sqlite://")],
    ["dbconfig_opfs", () => dbconfigRun("sqlite:///bench.db")],
    ["rust_only_rusqlite", () => rustOnlyRun()],
  ]) {
    await run(); // warm up
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(await run());
    const round = (x) => Math.round(x * 10) / 10;
    result[`${name}_ms`] = round(median(times.map((t) => t[0])));
    result[`${name}_insert_ms`] = round(median(times.map((t) => t[1])));
    result[`${name}_read_ms`] = round(median(times.map((t) => t[2])));
    if (times[0].length > 3) {
      result[`${name}_read_arrays_ms`] = round(median(times.map((t) => t[3])));
      result[`${name}_point_reads_ms`] = round(median(times.map((t) => t[4])));
      result[`${name}_point_reads_prepared_ms`] = round(median(times.map((t) => t[5])));
    }
  }
  result.ratio_dbconfig_vs_bare = Math.round((result.dbconfig_memory_ms / result.bare_rusqlite_ms) * 100) / 100;
  self.postMessage(result);
} catch (e) {
  self.postMessage({ error: `${e.kind ?? e.name}: ${e.message}` });
}
