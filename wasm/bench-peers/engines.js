// A module worker running one engine of the peer benchmark: `engines.js?engine=<name>`.
// Each engine goes through its own public JS API, its fastest documented path for each task.
await import("./harness.js");
const engine = new URL(import.meta.url).searchParams.get("engine");
const nm = "./node_modules";

const INSERT = "INSERT INTO t (id, k, v) VALUES (?, ?, ?)";
const SELECT = "SELECT id, k, v FROM t";
const POINT = "SELECT k, v FROM t WHERE id = ?";

async function dbconfig(url) {
  const { init, Database } = await import("../www/pkg/index.js");
  await init();
  const db = await Database.open(url);
  return {
    first: () => (db.query("SELECT 1 AS one"), performance.now()),
    exec: (sql) => db.exec(sql),
    insert(rows) {
      const tx = db.transaction(true);
      tx.execMany("INSERT INTO t (id, k, v) VALUES ($1, $2, $3)", rows);
      tx.commit();
    },
    readAll: () => db.queryArrays(SELECT).length,
    points(n) {
      const stmt = db.prepare("SELECT k, v FROM t WHERE id = $1");
      let found = 0;
      for (let id = 1; id <= n; id++) found += stmt.values([id]).length;
      stmt.finalize();
      return found;
    },
    close: () => db.close(),
  };
}

async function official(opfs) {
  const { default: init } = await import(`${nm}/@sqlite.org/sqlite-wasm/dist/index.mjs`);
  const sqlite3 = await init();
  let db;
  if (opfs) {
    const pool = await sqlite3.installOpfsSAHPoolVfs({ name: "peer-sahpool" });
    db = new pool.OpfsSAHPoolDb("/peer-bench.db");
  } else {
    db = new sqlite3.oo1.DB(":memory:", "c");
  }
  return {
    first: () => (db.exec("SELECT 1"), performance.now()),
    exec: (sql) => db.exec(sql),
    insert(rows) {
      db.exec("BEGIN IMMEDIATE");
      const stmt = db.prepare(INSERT);
      for (const row of rows) stmt.bind(row).stepReset();
      stmt.finalize();
      db.exec("COMMIT");
    },
    readAll: () => db.exec({ sql: SELECT, rowMode: "array", returnValue: "resultRows" }).length,
    points(n) {
      const stmt = db.prepare(POINT);
      let found = 0;
      for (let id = 1; id <= n; id++) {
        stmt.bind([id]);
        if (stmt.step()) {
          stmt.get([]);
          found++;
        }
        stmt.reset();
      }
      stmt.finalize();
      return found;
    },
    close: () => db.close(),
  };
}

async function waSqlite() {
  const { default: factory } = await import(`${nm}/wa-sqlite/dist/wa-sqlite.mjs`);
  const SQLite = await import(`${nm}/wa-sqlite/src/sqlite-api.js`);
  const sqlite3 = SQLite.Factory(await factory());
  const db = await sqlite3.open_v2(":memory:");
  const each = async (sql, work) => {
    for await (const stmt of sqlite3.statements(db, sql)) await work(stmt);
  };
  return {
    async first() {
      await sqlite3.exec(db, "SELECT 1");
      return performance.now();
    },
    exec: (sql) => sqlite3.exec(db, sql),
    async insert(rows) {
      await sqlite3.exec(db, "BEGIN IMMEDIATE");
      await each(INSERT, async (stmt) => {
        for (const row of rows) {
          sqlite3.bind_collection(stmt, row);
          await sqlite3.step(stmt);
          await sqlite3.reset(stmt);
        }
      });
      await sqlite3.exec(db, "COMMIT");
    },
    async readAll() {
      const out = [];
      await each(SELECT, async (stmt) => {
        while ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) out.push(sqlite3.row(stmt));
      });
      return out.length;
    },
    async points(n) {
      let found = 0;
      await each(POINT, async (stmt) => {
        for (let id = 1; id <= n; id++) {
          sqlite3.bind_collection(stmt, [id]);
          if ((await sqlite3.step(stmt)) === SQLite.SQLITE_ROW) {
            sqlite3.row(stmt);
            found++;
          }
          await sqlite3.reset(stmt);
        }
      });
      return found;
    },
    close: () => sqlite3.close(db),
  };
}

const engines = {
  "dbconfig memory": () => dbconfig("sqlite://"),
  "dbconfig opfs": () => dbconfig("sqlite:///peer-bench.db"),
  "official memory": () => official(false),
  "official opfs-sahpool": () => official(true),
  "wa-sqlite memory": () => waSqlite(),
};

try {
  self.postMessage(await self.benchHarness.run(engine, engines[engine]));
} catch (e) {
  self.postMessage({ engine, error: `${e.kind ?? e.name}: ${e.message}` });
}
