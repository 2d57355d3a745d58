// The package's dedicated worker: it owns the databases that `openDatabase` and
// `importDatabase` open (OPFS, through the `opfs-sahpool` VFS, exists only in a dedicated
// worker) and runs each call of the main-thread handles, one at a time, in the order sent.
import init, { Database } from "./dbconfig_wasm.js";

const wasm = init();
const databases = new Map();
const transactions = new Map();
const statements = new Map();
let nextId = 1;

// What a handle's id refers to; a missing one is the error its kind says.
function lookup(map, id, kind, message) {
  const found = map.get(id);
  if (!found) throw Object.assign(new Error(message), { name: "DbconfigError", kind });
  return found;
}

const database = (id) => lookup(databases, id, "Closed", "the database is closed");
const transaction = (id) =>
  lookup(transactions, id, "TransactionDone", "this transaction already committed or rolled back");
const statement = (id) => lookup(statements, id, "InvalidArgument", "the statement was finalized");

function keep(map, value) {
  const id = nextId++;
  map.set(id, value);
  return id;
}

function end(id, how) {
  const tx = transaction(id);
  tx[how]();
  transactions.delete(id);
  tx.free();
}

const calls = {
  async open(url, settings) {
    return keep(databases, await Database.open(url, settings));
  },
  async import(url, bytes, settings) {
    return keep(databases, await Database.import(url, bytes, settings));
  },
  exec: (db, sql, params) => database(db).exec(sql, params),
  execMany: (db, sql, rows) => database(db).execMany(sql, rows),
  query: (db, sql, params) => database(db).query(sql, params),
  queryArrays: (db, sql, params) => database(db).queryArrays(sql, params),
  prepare(db, sql) {
    const stmt = database(db).prepare(sql);
    stmt.db = db;
    return keep(statements, stmt);
  },
  run: (stmt, params) => statement(stmt).run(params),
  all: (stmt, params) => statement(stmt).all(params),
  values: (stmt, params) => statement(stmt).values(params),
  columns: (stmt) => statement(stmt).columns(),
  finalize(stmt) {
    const s = statements.get(stmt);
    if (s) {
      statements.delete(stmt);
      s.free();
    }
  },
  createDb: (db, schema) => database(db).createDb(schema),
  dropDb: (db, schema) => database(db).dropDb(schema),
  verifyDb: (db, schema) => database(db).verifyDb(schema),
  migrate: (db, steps) => database(db).migrate(steps),
  migrationStatus: (db, steps) => database(db).migrationStatus(steps),
  createOrUpgrade: (db, schema, steps) => database(db).createOrUpgrade(schema, steps),
  planDb: (db, schema, destructive) => database(db).planDb(schema, destructive),
  export: (db) => database(db).export(),
  pragmas: (db) => database(db).pragmas(),
  settings: (db) => database(db).settings(),
  isInMemory: (db) => database(db).isInMemory(),
  isPersistent: (db) => database(db).isPersistent(),
  sqliteVersion: () => Database.sqliteVersion(),
  close(db) {
    for (const map of [transactions, statements]) {
      for (const [id, item] of map) {
        if (item.db === db) {
          map.delete(id);
          item.free();
        }
      }
    }
    const open = databases.get(db);
    if (open) {
      databases.delete(db);
      open.close();
      open.free();
    }
  },
  transaction(db, withForUpdate) {
    const tx = database(db).transaction(withForUpdate);
    tx.db = db;
    return keep(transactions, tx);
  },
  txExec: (tx, sql, params) => transaction(tx).exec(sql, params),
  txExecMany: (tx, sql, rows) => transaction(tx).execMany(sql, rows),
  txQuery: (tx, sql, params) => transaction(tx).query(sql, params),
  txQueryArrays: (tx, sql, params) => transaction(tx).queryArrays(sql, params),
  txState: (tx) => transaction(tx).state(),
  commit: (tx) => end(tx, "commit"),
  rollback: (tx) => end(tx, "rollback"),
};

// The buffers of the `Uint8Array`s in a result (a value, a row, or rows), moved to the page
// rather than copied. Each is a fresh copy out of wasm memory, never a view of it (checked).
function transferables(result, memory) {
  const found = new Set();
  const add = (v) => {
    if (v instanceof Uint8Array && v.buffer !== memory.buffer && v.byteLength === v.buffer.byteLength) {
      found.add(v.buffer);
    }
  };
  const scan = (v, depth) => {
    if (v instanceof Uint8Array) add(v);
    else if (depth > 0 && Array.isArray(v)) for (const x of v) scan(x, depth - 1);
    else if (depth > 0 && v && typeof v === "object") for (const x of Object.values(v)) scan(x, depth - 1);
  };
  scan(result, 3);
  return [...found];
}

function failure(e) {
  return {
    name: e?.name ?? "Error",
    message: e?.message ?? String(e),
    kind: e?.kind,
    code: e?.code,
  };
}

let queue = Promise.resolve();
self.onmessage = ({ data }) => {
  const { id, call, args } = data;
  queue = queue.then(async () => {
    try {
      const { memory } = await wasm;
      const fn = calls[call];
      if (!fn) throw new Error(`unknown call ${call}`);
      const result = await fn(...args);
      self.postMessage({ id, ok: true, result }, transferables(result, memory));
    } catch (e) {
      self.postMessage({ id, ok: false, error: failure(e) });
    }
  });
};
