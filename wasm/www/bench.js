// In a dedicated worker: 10,000 rows inserted in one transaction and read back, through
// dbconfig's API (in memory and on OPFS) and through bare rusqlite (baselineInsertRead), each
// warm run repeated; medians in milliseconds.
import init, { Database, baselineInsertRead } from "./pkg/dbconfig_wasm.js";

const N = 10000;
const RUNS = 7;
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const v = new Uint8Array(100).fill(7);

async function dbconfigRun(url) {
  const db = await Database.open(url);
  db.exec("DROP TABLE IF EXISTS bench_kv; CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)");
  const rows = [];
  for (let id = 1; id <= N; id++) rows.push([id, `key-${id}`, v]);
  const t0 = performance.now();
  const tx = db.transaction(true);
  tx.execMany("INSERT INTO bench_kv (id, k, v) VALUES (?1, ?2, ?3)", rows);
  tx.commit();
  const read = db.query("SELECT id, k, v FROM bench_kv");
  const ms = performance.now() - t0;
  db.close();
  if (read.length !== N) throw new Error(`read ${read.length} rows`);
  return ms;
}

function baselineRun() {
  const t0 = performance.now();
  const read = baselineInsertRead(N);
  const ms = performance.now() - t0;
  if (read !== N) throw new Error(`baseline read ${read} rows`);
  return ms;
}

try {
  await init();
  const result = { rows: N, runs: RUNS };
  for (const [name, run] of [
    ["baseline_memory_ms", () => baselineRun()],
    ["dbconfig_memory_ms", () => dbconfigRun("sqlite://")],
    ["dbconfig_opfs_ms", () => dbconfigRun("sqlite:///bench.db")],
  ]) {
    await run(); // warm up
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(await run());
    result[name] = Math.round(median(times) * 10) / 10;
  }
  result.ratio_memory = Math.round((result.dbconfig_memory_ms / result.baseline_memory_ms) * 100) / 100;
  self.postMessage(result);
} catch (e) {
  self.postMessage({ error: `${e.kind ?? e.name}: ${e.message}` });
}
