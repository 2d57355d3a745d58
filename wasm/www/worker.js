// The dedicated worker: owns the persistent database (OPFS exists only here).
import init, { Database } from "./pkg/dbconfig_wasm.js";

let db;
let schema;

async function open() {
  if (!db) {
    await init();
    schema = await (await fetch("./schema.json")).text();
    db = await Database.open("sqlite:///demo.db");
  }
  return db;
}

const commands = {
  async setup() {
    const db = await open();
    db.createDb(schema);
    const tables = db.query("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")[0].n;
    return {
      tables,
      pragmas: db.pragmas(),
      persistent: db.isPersistent(),
      differences: db.verifyDb(schema).length,
    };
  },
  async add() {
    const db = await open();
    const tx = db.transaction(true);
    try {
      const rows = ["etl", "report", "backup"].map((name) => [
        crypto.randomUUID(),
        `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
        JSON.stringify([name, "demo"]),
      ]);
      const n = tx.execMany("INSERT INTO flow (id, name, tags) VALUES ($1, $2, $3)", rows);
      tx.commit();
      return n;
    } catch (e) {
      tx.rollback();
      throw e;
    }
  },
  async show() {
    const db = await open();
    return db.query("SELECT name, tags, created FROM flow ORDER BY created, name");
  },
  async drop() {
    const db = await open();
    db.dropDb(schema);
    return null;
  },
};

self.onmessage = async ({ data }) => {
  const { id, command, args } = data;
  try {
    const result = await commands[command](args);
    self.postMessage({ id, ok: true, result });
  } catch (e) {
    self.postMessage({ id, ok: false, error: `${e.kind ?? e.name}: ${e.message}` });
  }
};
