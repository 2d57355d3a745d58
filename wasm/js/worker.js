// The package's dedicated worker: it runs the calls of the main-thread handles that
// `openDatabase` and `importDatabase` return.
//
// Every database is *served*: one call at a time, in the order sent, and an open transaction
// keeps the database for the handle that began it until it commits or rolls back, so a
// transaction is atomic with respect to every other handle. A call that waits behind another
// handle's transaction for longer than `busy_timeout` fails with SQLITE_BUSY, as a second
// connection would.
//
// - An in-memory database is served here, private to its handle.
// - Persistent (OPFS) databases are served by one worker of the origin, the *holder*: the
//   `opfs-sahpool` VFS takes exclusive access handles on its directory, so only one worker
//   at a time can open any OPFS database. The holder is elected with the Web Locks API (the
//   first worker to ask holds lock `dbconfig-wasm:opfs`); the workers of other tabs send their
//   calls to it over a BroadcastChannel. When the holder's tab closes or reloads, its lock is
//   released and the next worker in the lock's queue becomes the holder: calls not yet
//   received by the old holder are sent to the new one; a call the old holder received but did
//   not answer fails with kind `HolderChanged` (it may or may not have run), and so do later
//   calls of a transaction that was open there (it was rolled back).
import init, { Database } from "./dbconfig_wasm.js";

const wasm = init();
/** This worker's id: names its sessions, and its lock tells the holder it is alive. */
const me = crypto.randomUUID();
const POOL_LOCK = "dbconfig-wasm:opfs";
const clientLock = (id) => `dbconfig-wasm:client:${id}`;

function fail(kind, message, code) {
  return Object.assign(new Error(message), { name: "DbconfigError", kind, code });
}

function failure(e) {
  return { name: e?.name ?? "Error", message: e?.message ?? String(e), kind: e?.kind, code: e?.code };
}

const rebuild = ({ name, message, kind, code }) => Object.assign(new Error(message), { name, kind, code });

/** Calls that are a `Database` method of the same name, run as they are. */
const DATABASE_CALLS = new Set(["exec", "execMany", "query", "queryArrays", "createDb", "dropDb",
  "verifyDb", "migrate", "migrationStatus", "createOrUpgrade", "planDb", "export", "restore",
  "pragmas", "settings", "isInMemory", "isPersistent"]);

/** One database and the order in which its sessions' calls run. */
class Served {
  #opening;
  #db = null;
  #queue = [];
  #running = false;
  /** The open transaction: `{ session, serial, tx }`. */
  #tx = null;
  #serial = 0;
  /** session → (statement key → prepared Statement). */
  #statements = new Map();
  #busyMs = 60000;

  constructor(opening) {
    this.#opening = opening.then((db) => {
      this.#db = db;
      const seconds = db.settings()?.sqlite?.busy_timeout;
      if (typeof seconds === "number") this.#busyMs = seconds * 1000;
      return db;
    });
  }

  /** Runs `call` for `session` when its turn comes. */
  submit(session, call, args) {
    return new Promise((resolve, reject) => {
      const request = { session, call, args, resolve, reject, timer: null };
      if (this.#tx && this.#tx.session !== session) this.#waitAtMost(request);
      this.#queue.push(request);
      this.#pump();
    });
  }

  #waitAtMost(request) {
    request.timer = setTimeout(() => {
      const at = this.#queue.indexOf(request);
      if (at < 0) return;
      this.#queue.splice(at, 1);
      request.reject(fail("Sqlite", "database is locked: another handle's transaction kept it " +
        `for longer than busy_timeout (${this.#busyMs} ms)`, 5));
    }, this.#busyMs);
  }

  async #pump() {
    if (this.#running) return;
    this.#running = true;
    try {
      for (;;) {
        const owner = this.#tx?.session;
        const at = owner === undefined ? 0 : this.#queue.findIndex((r) => r.session === owner);
        if (at < 0 || at >= this.#queue.length) return;
        const [request] = this.#queue.splice(at, 1);
        clearTimeout(request.timer);
        try {
          request.resolve(await this.#run(request.session, request.call, request.args));
        } catch (e) {
          request.reject(e);
        }
        if (!this.#tx) {
          // Nothing holds the database: the queue drains without waiting on anyone.
          for (const r of this.#queue) {
            clearTimeout(r.timer);
            r.timer = null;
          }
          continue;
        }
        // Calls of other sessions now wait for this transaction: bound their wait.
        for (const r of this.#queue) if (r.timer === null && r.session !== this.#tx.session) this.#waitAtMost(r);
      }
    } finally {
      this.#running = false;
    }
  }

  #transaction(session, serial) {
    const open = this.#tx;
    if (!open || open.session !== session || open.serial !== serial) {
      throw fail("TransactionDone", "this transaction already committed or rolled back");
    }
    return open.tx;
  }

  #statement(session, key, sql) {
    let mine = this.#statements.get(session);
    if (!mine) this.#statements.set(session, (mine = new Map()));
    let stmt = mine.get(key);
    if (!stmt) mine.set(key, (stmt = this.#db.prepare(sql)));
    return stmt;
  }

  #end(session, serial, how) {
    const tx = this.#transaction(session, serial);
    tx[how]();
    this.#tx = null;
    tx.free();
  }

  async #run(session, call, args) {
    const db = await this.#opening;
    if (DATABASE_CALLS.has(call)) return db[call](...args);
    switch (call) {
      case "attach":
        return undefined;
      case "prepare":
        this.#statement(session, args[0], args[1]);
        return undefined;
      case "run":
      case "all":
      case "values":
      case "columns": {
        const [key, sql, params] = args;
        return this.#statement(session, key, sql)[call](params);
      }
      case "finalize": {
        const stmt = this.#statements.get(session)?.get(args[0]);
        this.#statements.get(session)?.delete(args[0]);
        stmt?.free();
        return undefined;
      }
      case "transaction": {
        const tx = db.transaction(args[0]);
        this.#tx = { session, serial: ++this.#serial, tx };
        return this.#serial;
      }
      case "txExec":
      case "txExecMany":
      case "txQuery":
      case "txQueryArrays":
      case "txState": {
        const [serial, ...rest] = args;
        const method = call[2].toLowerCase() + call.slice(3);
        return this.#transaction(session, serial)[method](...rest);
      }
      case "commit":
        return this.#end(session, args[0], "commit");
      case "rollback":
        return this.#end(session, args[0], "rollback");
      case "detach":
        return this.detach(session);
      default:
        throw new Error(`unknown call ${call}`);
    }
  }

  /** Ends `session`: its transaction rolls back, its statements and queued calls go. */
  detach(session) {
    if (this.#tx?.session === session) {
      const { tx } = this.#tx;
      this.#tx = null;
      try {
        tx.rollback();
      } catch {
        // The connection rolls back what is left when the next transaction begins or closes.
      }
      tx.free();
    }
    for (const stmt of this.#statements.get(session)?.values() ?? []) stmt.free();
    this.#statements.delete(session);
    for (const r of this.#queue.filter((q) => q.session === session && q.call !== "detach")) {
      this.#queue.splice(this.#queue.indexOf(r), 1);
      clearTimeout(r.timer);
      r.reject(fail("Closed", "the database is closed"));
    }
    queueMicrotask(() => this.#pump());
  }

  /** Ends every session of worker `client` (its tab closed). */
  detachClient(client) {
    const sessions = new Set([...this.#statements.keys(), this.#tx?.session, ...this.#queue.map((r) => r.session)]);
    for (const s of sessions) if (s?.startsWith(`${client}/`)) this.detach(s);
  }

  /** Closes the database (an in-memory one, when its only handle closes). */
  async close() {
    const db = await this.#opening.catch(() => null);
    for (const session of new Set([...this.#statements.keys(), this.#tx?.session])) {
      if (session) this.detach(session);
    }
    if (db) {
      db.close();
      db.free();
    }
  }
}

/** Opens an OPFS database, waiting (bounded) for a previous holder's access handles to go. */
async function openPersistent(url, settings) {
  const deadline = Date.now() + 10000;
  for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
    try {
      return await Database.open(url, settings);
    } catch (e) {
      if (e?.kind !== "Storage" || Date.now() + pause > deadline) throw e;
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** The OPFS databases of the origin: served here when this worker holds them, else sent. */
const opfs = {
  /** The holding worker's id, once known (`me` when this worker holds). */
  holder: null,
  /** storage name → Served, while this worker holds. */
  served: new Map(),
  channel: null,
  joining: null,
  /** Calls sent to (or waiting for) a holder: seq → `{ h, call, args, resolve, reject, to, acked }`. */
  pending: new Map(),
  seq: 0,
  /** Workers whose tab this holder watches. */
  watched: new Set(),

  /** Joins the origin's OPFS users once: takes this worker's own lock, then asks for the pool. */
  join() {
    this.joining ??= (async () => {
      if (!globalThis.navigator?.locks || typeof BroadcastChannel === "undefined") {
        this.holder = me; // Nothing to share with: serve here.
        return;
      }
      await new Promise((held) =>
        navigator.locks.request(clientLock(me), () => {
          held();
          return new Promise(() => {});
        }),
      );
      this.channel = new BroadcastChannel(POOL_LOCK);
      this.channel.onmessage = ({ data }) => this.receive(data);
      navigator.locks.request(POOL_LOCK, () => {
        this.switchTo(me);
        this.channel.postMessage({ type: "holder", id: me });
        return new Promise(() => {});
      });
      this.channel.postMessage({ type: "who" });
    })();
    return this.joining;
  },

  /** The database `h` names, opened with its url and settings when first used here. */
  servedFor(h) {
    let served = this.served.get(h.name);
    if (!served) {
      const opening = openPersistent(h.url, h.settings);
      served = new Served(opening);
      this.served.set(h.name, served);
      // A database that did not open is opened again by the next call.
      opening.catch(() => this.served.get(h.name) === served && this.served.delete(h.name));
    }
    return served;
  },

  /** Runs `call` where the database is served; `txHolder` is the holder of its transaction. */
  async submit(h, call, args, txHolder) {
    await this.join();
    return new Promise((resolve, reject) => {
      const p = { h, call, args, resolve, reject, to: null, acked: false, txHolder };
      if (txHolder !== undefined && txHolder !== this.holder) return reject(rolledBack());
      if (this.holder === me) return this.local(p);
      const seq = ++this.seq;
      this.pending.set(seq, p);
      if (this.holder !== null) this.post(seq, p);
    });
  },

  local(p) {
    this.servedFor(p.h).submit(p.h.session, p.call, p.args).then(p.resolve, p.reject);
  },

  post(seq, p) {
    p.to = this.holder;
    p.acked = false;
    const { name, url, settings, session } = p.h;
    this.channel.postMessage({ type: "req", from: me, to: p.to, seq, name, url, settings, session, call: p.call, args: p.args });
  },

  /** A (new) holder: calls it never received go to it, calls it did receive fail. */
  switchTo(id) {
    if (this.holder === id) return;
    this.holder = id;
    for (const [seq, p] of this.pending) {
      if (p.to === id) continue;
      if (p.txHolder !== undefined && !p.acked) {
        // Its transaction was open at the old holder, which never got this call.
        this.pending.delete(seq);
        p.reject(rolledBack());
      } else if (p.acked) {
        this.pending.delete(seq);
        p.reject(fail("HolderChanged", "the tab that held the database closed or reloaded while " +
          "running this call: it may or may not have run"));
      } else if (id === me) {
        this.pending.delete(seq);
        this.local(p);
      } else {
        this.post(seq, p);
      }
    }
  },

  receive(data) {
    switch (data.type) {
      case "who":
        if (this.holder === me) this.channel.postMessage({ type: "holder", id: me });
        break;
      case "holder":
        if (data.id !== me) this.switchTo(data.id);
        break;
      case "req":
        if (data.to === me && this.holder === me) this.serve(data);
        break;
      case "ack": {
        const p = data.to === me && this.pending.get(data.seq);
        if (p && p.to === data.from) p.acked = true;
        break;
      }
      case "res": {
        const p = data.to === me && this.pending.get(data.seq);
        if (!p || p.to !== data.from) break;
        this.pending.delete(data.seq);
        if (data.ok) p.resolve(data.result);
        else p.reject(rebuild(data.error));
        break;
      }
    }
  },

  /** Runs another worker's call. */
  serve({ from, seq, name, url, settings, session, call, args }) {
    const answer = (message) => this.channel.postMessage({ type: "res", to: from, from: me, seq, ...message });
    this.channel.postMessage({ type: "ack", to: from, from: me, seq });
    this.watch(from);
    this.servedFor({ name, url, settings }).submit(session, call, args).then(
      async (result) => answer({ ok: true, result: ownBlobs(result, (await wasm).memory)[0] }),
      (e) => answer({ ok: false, error: failure(e) }),
    );
  },

  /** When worker `client`'s tab goes, its transactions roll back and its statements go. */
  watch(client) {
    if (this.watched.has(client)) return;
    this.watched.add(client);
    navigator.locks.request(clientLock(client), () => {
      this.watched.delete(client);
      for (const served of this.served.values()) served.detachClient(client);
    });
  },
};

// This worker's handles. A database handle: `{ session, name, url, settings, served }` (`name`
// is the storage name of a persistent database; `served` is set for an in-memory one).
const handles = new Map();
/** Transaction handles: id → `{ db, serial, holder }` (`holder`: the worker serving it). */
const transactions = new Map();
/** Statement handles: id → `{ db, sql }`. */
const statements = new Map();
let nextId = 1;

function handle(id) {
  const h = handles.get(id);
  if (!h) throw fail("Closed", "the database is closed");
  return h;
}

function send(h, call, args, txHolder) {
  return h.served ? h.served.submit(h.session, call, args) : opfs.submit(h, call, args, txHolder);
}

function rolledBack() {
  return fail("HolderChanged", "the tab that held the database closed or reloaded: this " +
    "transaction was rolled back");
}

async function open(url, settings, bytes) {
  const id = nextId++;
  const name = Database.storageName(url, settings);
  const h = { session: `${me}/${id}`, name, url, settings, served: null };
  if (name === undefined) {
    const opening = bytes ? Database.import(url, bytes, settings) : Database.open(url, settings);
    h.served = new Served(opening);
  }
  handles.set(id, h);
  // An OPFS database is opened where it is served; bytes to import replace its content there.
  const restore = bytes && !h.served;
  try {
    await send(h, restore ? "restore" : "attach", restore ? [bytes] : []);
  } catch (e) {
    handles.delete(id);
    if (h.served) h.served.close();
    else send(h, "detach", []).catch(() => {});
    throw e;
  }
  return id;
}

function transaction(id) {
  const tx = transactions.get(id);
  if (!tx) throw fail("TransactionDone", "this transaction already committed or rolled back");
  return { tx, h: handle(tx.db) };
}

function statement(id) {
  const stmt = statements.get(id);
  if (!stmt) throw fail("InvalidArgument", "the statement was finalized");
  return { stmt, h: handle(stmt.db) };
}

async function inTransaction(id, call, args) {
  const { tx, h } = transaction(id);
  try {
    return await send(h, call, [tx.serial, ...args], tx.holder);
  } catch (e) {
    if (e.kind === "HolderChanged") transactions.delete(id);
    throw e;
  }
}

async function end(id, how) {
  try {
    await inTransaction(id, how, []);
  } catch (e) {
    // A transaction the holder's tab took with it is rolled back already.
    if (how === "rollback" && e.kind === "HolderChanged") return;
    throw e;
  }
  transactions.delete(id);
}

async function onStatement(id, call, params) {
  const { stmt, h } = statement(id);
  return send(h, call, [id, stmt.sql, params]);
}

const calls = {
  open: (url, settings) => open(url, settings),
  import: (url, bytes, settings) => open(url, settings, bytes),
  async prepare(db, sql) {
    const id = nextId++;
    await send(handle(db), "prepare", [id, sql]);
    statements.set(id, { db, sql });
    return id;
  },
  run: (stmt, params) => onStatement(stmt, "run", params),
  all: (stmt, params) => onStatement(stmt, "all", params),
  values: (stmt, params) => onStatement(stmt, "values", params),
  columns: (stmt) => onStatement(stmt, "columns"),
  async finalize(stmt) {
    const found = statements.get(stmt);
    if (!found) return;
    statements.delete(stmt);
    const h = handles.get(found.db);
    if (h) await send(h, "finalize", [stmt]);
  },
  sqliteVersion: () => Database.sqliteVersion(),
  async close(db) {
    const h = handles.get(db);
    if (!h) return;
    handles.delete(db);
    for (const map of [transactions, statements]) {
      for (const [id, item] of map) if (item.db === db) map.delete(id);
    }
    if (h.served) await h.served.close();
    else await send(h, "detach", []);
  },
  async transaction(db, withForUpdate) {
    const h = handle(db);
    const serial = await send(h, "transaction", [withForUpdate]);
    const id = nextId++;
    transactions.set(id, { db, serial, holder: h.served ? undefined : opfs.holder });
    return id;
  },
  txExec: (tx, sql, params) => inTransaction(tx, "txExec", [sql, params]),
  txExecMany: (tx, sql, rows) => inTransaction(tx, "txExecMany", [sql, rows]),
  txQuery: (tx, sql, params) => inTransaction(tx, "txQuery", [sql, params]),
  txQueryArrays: (tx, sql, params) => inTransaction(tx, "txQueryArrays", [sql, params]),
  txState: (tx) => inTransaction(tx, "txState", []),
  commit: (tx) => end(tx, "commit"),
  rollback: (tx) => end(tx, "rollback"),
};

for (const name of DATABASE_CALLS) calls[name] = (db, ...args) => send(handle(db), name, args);

// A result's blobs, each given a buffer of its own so that it can be moved rather than copied:
// a small blob is a view of a buffer shared with others (wire.js's pool), which must neither be
// transferred (later blobs use it) nor cloned whole. Returns the result and the buffers to
// transfer.
function ownBlobs(result, memory) {
  const buffers = [];
  const own = (v) => {
    const alone = v.byteLength === v.buffer.byteLength && v.buffer !== memory.buffer;
    const copy = alone ? v : v.slice();
    buffers.push(copy.buffer);
    return copy;
  };
  const walk = (v, depth) => {
    if (v instanceof Uint8Array) return own(v);
    if (depth > 0 && Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i], depth - 1);
    } else if (depth > 0 && v && typeof v === "object") {
      for (const k of Object.keys(v)) v[k] = walk(v[k], depth - 1);
    }
    return v;
  };
  return [walk(result, 3), buffers];
}

// Calls from the page start in the order sent; each database's own queue orders them from
// there, so a slow call on one database does not hold up another.
self.onmessage = async ({ data }) => {
  const { id, call, args } = data;
  try {
    const { memory } = await wasm;
    const fn = calls[call];
    if (!fn) throw new Error(`unknown call ${call}`);
    const [result, transfer] = ownBlobs(await fn(...args), memory);
    self.postMessage({ id, ok: true, result }, transfer);
  } catch (e) {
    self.postMessage({ id, ok: false, error: failure(e) });
  }
};
