// A classic worker running sql.js (a UMD script: it defines `initSqlJs` for importScripts).
importScripts("./harness.js", "./node_modules/sql.js/dist/sql-wasm.js");

const INSERT = "INSERT INTO t (id, k, v) VALUES (?, ?, ?)";

async function open() {
  const SQL = await initSqlJs({ locateFile: (file) => `./node_modules/sql.js/dist/${file}` });
  const db = new SQL.Database();
  return {
    first: () => (db.exec("SELECT 1"), performance.now()),
    exec: (sql) => db.exec(sql),
    insert(rows) {
      db.run("BEGIN IMMEDIATE");
      const stmt = db.prepare(INSERT);
      for (const row of rows) stmt.run(row);
      stmt.free();
      db.run("COMMIT");
    },
    readAll: () => db.exec("SELECT id, k, v FROM t")[0].values.length,
    points(n) {
      const stmt = db.prepare("SELECT k, v FROM t WHERE id = ?");
      let found = 0;
      for (let id = 1; id <= n; id++) {
        stmt.bind([id]);
        if (stmt.step()) {
          stmt.get();
          found++;
        }
        stmt.reset();
      }
      stmt.free();
      return found;
    },
    close: () => db.close(),
  };
}

self.benchHarness
  .run("sql.js memory", open)
  .then((result) => self.postMessage(result))
  .catch((e) => self.postMessage({ engine: "sql.js memory", error: `${e.name}: ${e.message}` }));
