// The work every engine of the peer benchmark does, the same for all: 10,000 rows
// (id, text key, 100-byte blob) inserted in one transaction with a prepared statement, read back
// into JS as arrays, then 10,000 autocommit point reads by key with a prepared statement; each
// timed as the median of RUNS warm runs (one warm-up run first). A plain script: classic workers
// load it with importScripts, module workers with import(); it sets `self.benchHarness`.
self.benchHarness = {
  N: 10000,
  RUNS: 7,
  CREATE: "DROP TABLE IF EXISTS t; CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v BLOB NOT NULL)",
  async run(name, open) {
    const { N, RUNS, CREATE } = self.benchHarness;
    const db = await open();
    // performance.now() counts from the worker's start: loading, init and the first query.
    const started = await db.first();
    const rows = [];
    const blob = new Uint8Array(100).fill(7);
    for (let id = 1; id <= N; id++) rows.push([id, `key-${id}`, blob]);
    const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const times = { insert: [], read: [], points: [] };
    for (let i = 0; i <= RUNS; i++) {
      await db.exec(CREATE);
      let t0 = performance.now();
      await db.insert(rows);
      const insert = performance.now() - t0;
      t0 = performance.now();
      const read = await db.readAll();
      const readMs = performance.now() - t0;
      if (read !== N) throw new Error(`${name}: read ${read} rows`);
      t0 = performance.now();
      const found = await db.points(N);
      const points = performance.now() - t0;
      if (found !== N) throw new Error(`${name}: ${found} point reads found`);
      if (i === 0) continue; // warm-up
      times.insert.push(insert);
      times.read.push(readMs);
      times.points.push(points);
    }
    await db.close();
    const round = (x) => Math.round(x * 10) / 10;
    return {
      engine: name,
      cold_start_ms: round(started),
      insert_ms: round(median(times.insert)),
      read_ms: round(median(times.read)),
      point_reads_ms: round(median(times.points)),
    };
  },
};
