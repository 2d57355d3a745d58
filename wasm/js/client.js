// The main-thread API: `openDatabase` and `importDatabase` return handles whose calls run in a
// dedicated worker that the package starts itself (`worker.js`), so persistent (OPFS)
// databases work from the page. Every call returns a promise; errors keep `name`, `kind` and
// `code`.

let shared;

function connect(worker) {
  const pending = new Map();
  let next = 1;
  worker.addEventListener("message", ({ data }) => {
    const call = pending.get(data.id);
    if (!call) return;
    pending.delete(data.id);
    if (data.ok) call.resolve(data.result);
    else call.reject(rebuild(data.error));
  });
  worker.addEventListener("error", (event) => {
    const error = new Error(`dbconfig worker failed: ${event.message ?? "could not start"}`);
    error.name = "DbconfigError";
    error.kind = "Worker";
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  });
  return {
    worker,
    call(call, args, transfer = []) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, call, args }, transfer);
      });
    },
  };
}

function rebuild({ name, message, kind, code }) {
  const error = new Error(message);
  error.name = name;
  if (kind !== undefined) error.kind = kind;
  if (code !== undefined) error.code = code;
  return error;
}

function channel(options) {
  if (options?.worker) return connect(options.worker);
  shared ??= connect(new Worker(new URL("./worker.js", import.meta.url), { type: "module" }));
  return shared;
}

/** A transaction of a {@link RemoteDatabase}: its calls run inside it, in the worker. */
export class RemoteTransaction {
  #channel;
  #id;
  #done = false;

  constructor(channel, id) {
    this.#channel = channel;
    this.#id = id;
  }

  get done() {
    return this.#done;
  }

  exec(sql, params) {
    return this.#channel.call("txExec", [this.#id, sql, params]);
  }

  execMany(sql, rows) {
    return this.#channel.call("txExecMany", [this.#id, sql, rows]);
  }

  query(sql, params) {
    return this.#channel.call("txQuery", [this.#id, sql, params]);
  }

  queryArrays(sql, params) {
    return this.#channel.call("txQueryArrays", [this.#id, sql, params]);
  }

  state() {
    return this.#channel.call("txState", [this.#id]);
  }

  async commit() {
    await this.#channel.call("commit", [this.#id]);
    this.#done = true;
  }

  async rollback() {
    await this.#channel.call("rollback", [this.#id]);
    this.#done = true;
  }
}

/** A statement prepared once in the worker and run many times. */
export class RemoteStatement {
  #channel;
  #id;

  constructor(channel, id, sql) {
    this.#channel = channel;
    this.#id = id;
    this.sql = sql;
  }

  run(params) {
    return this.#channel.call("run", [this.#id, params]);
  }

  all(params) {
    return this.#channel.call("all", [this.#id, params]);
  }

  values(params) {
    return this.#channel.call("values", [this.#id, params]);
  }

  columns() {
    return this.#channel.call("columns", [this.#id]);
  }

  finalize() {
    return this.#channel.call("finalize", [this.#id]);
  }
}

/** A database opened in the package's worker. */
export class RemoteDatabase {
  #channel;
  #id;

  constructor(channel, id) {
    this.#channel = channel;
    this.#id = id;
  }

  #call(call, ...args) {
    return this.#channel.call(call, [this.#id, ...args]);
  }

  exec(sql, params) {
    return this.#call("exec", sql, params);
  }

  execMany(sql, rows) {
    return this.#call("execMany", sql, rows);
  }

  query(sql, params) {
    return this.#call("query", sql, params);
  }

  queryArrays(sql, params) {
    return this.#call("queryArrays", sql, params);
  }

  async prepare(sql) {
    return new RemoteStatement(this.#channel, await this.#call("prepare", sql), sql);
  }

  async transaction(withForUpdate = false) {
    const id = await this.#call("transaction", Boolean(withForUpdate));
    return new RemoteTransaction(this.#channel, id);
  }

  /** Runs `work(tx)` in a transaction: commits when it resolves, rolls back when it throws. */
  async withTransaction(work, withForUpdate = false) {
    const tx = await this.transaction(withForUpdate);
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (e) {
      if (!tx.done) await tx.rollback().catch(() => {});
      throw e;
    }
  }

  createDb(schema) {
    return this.#call("createDb", schema);
  }

  dropDb(schema) {
    return this.#call("dropDb", schema);
  }

  verifyDb(schema) {
    return this.#call("verifyDb", schema);
  }

  migrate(steps) {
    return this.#call("migrate", steps);
  }

  migrationStatus(steps) {
    return this.#call("migrationStatus", steps);
  }

  createOrUpgrade(schema, steps) {
    return this.#call("createOrUpgrade", schema, steps);
  }

  planDb(schema, destructive = false) {
    return this.#call("planDb", schema, Boolean(destructive));
  }

  export() {
    return this.#call("export");
  }

  restore(bytes) {
    return this.#call("restore", bytes);
  }

  pragmas() {
    return this.#call("pragmas");
  }

  settings() {
    return this.#call("settings");
  }

  isInMemory() {
    return this.#call("isInMemory");
  }

  isPersistent() {
    return this.#call("isPersistent");
  }

  close() {
    return this.#call("close");
  }
}

/**
 * Opens `url` (default `sqlite://`, in memory; `sqlite:///app.db` persists in OPFS) in the
 * package's worker and returns its handle.
 */
export async function openDatabase(url = "sqlite://", options = {}) {
  const ch = channel(options);
  return new RemoteDatabase(ch, await ch.call("open", [url, options.settings]));
}

/**
 * Opens `url` in the package's worker with `bytes` (a SQLite file, e.g. from `export()`) as
 * its content. `options.transfer` moves `bytes` to the worker instead of copying it.
 */
export async function importDatabase(url, bytes, options = {}) {
  const ch = channel(options);
  const transfer = options.transfer ? [bytes.buffer] : [];
  return new RemoteDatabase(ch, await ch.call("import", [url, bytes, options.settings], transfer));
}

/** The SQLite version of the package's worker. */
export function sqliteVersion(options = {}) {
  return channel(options).call("sqliteVersion", []);
}
