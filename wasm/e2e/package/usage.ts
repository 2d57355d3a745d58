// Type check of every public function of dbconfig-wasm (`tsc --noEmit` in the package test).
// Never run: it only has to compile, and the `@ts-expect-error` lines have to be errors.
import {
  init,
  Database,
  Transaction,
  openDatabase,
  importDatabase,
  sqliteVersion,
  RemoteDatabase,
  RemoteStatement,
  RemoteTransaction,
  Statement,
  type AppliedStep,
  type DbconfigError,
  type ErrorKind,
  type Migrations,
  type Params,
  type Plan,
  type Row,
  type RowArray,
  type StepStatus,
} from "dbconfig-wasm";

const steps: Migrations = [{ id: "0001", description: "notes", sql: "CREATE TABLE n (id INTEGER)" }];
const files: Migrations = { "0001_notes.sql": "CREATE TABLE n (id INTEGER)" };
const schema = { tables: [] };

async function remote(): Promise<void> {
  const db: RemoteDatabase = await openDatabase("sqlite:///app.db");
  const memory = await openDatabase();
  const changed: number = await db.exec("INSERT INTO n VALUES ($1)", [1]);
  const named: number = await db.exec("INSERT INTO n VALUES (:id)", { id: 2n });
  const many: number = await db.execMany("INSERT INTO n VALUES ($1)", [[1], [2], [null]]);
  const rows: Row[] = await db.query("SELECT * FROM n WHERE at < $1", [new Date()]);
  const value = rows[0]["id"];
  if (typeof value === "number" || typeof value === "bigint" || value === null) {
    // ColumnValue narrows.
  }
  const arrays: RowArray[] = await db.queryArrays("SELECT id FROM n");
  const stmt: RemoteStatement = await db.prepare("SELECT id FROM n WHERE id > $1");
  const sqlText: string = stmt.sql;
  const ran: number = await stmt.run([0]);
  const all: Row[] = await stmt.all([0]);
  const values: RowArray[] = await stmt.values([0]);
  const columns: string[] = await stmt.columns();
  await stmt.finalize();
  void [arrays, sqlText, ran, all, values, columns];
  const tx: RemoteTransaction = await db.transaction(true);
  await tx.queryArrays("SELECT 1");
  await tx.exec("DELETE FROM n");
  await tx.execMany("INSERT INTO n VALUES ($1)", [[1]]);
  const inTx: Row[] = await tx.query("SELECT 1 AS one");
  const state: "none" | "read" | "write" = await tx.state();
  const done: boolean = tx.done;
  await tx.commit();
  await (await db.transaction()).rollback();
  const total: number = await db.withTransaction(async (t) => (await t.query("SELECT 1 AS x")).length);
  await db.createDb(schema);
  await db.createDb(JSON.stringify(schema));
  await db.dropDb(schema);
  const differences: string[] = await db.verifyDb(schema);
  const applied: AppliedStep[] = await db.migrate(steps);
  const status: StepStatus[] = await db.migrationStatus(files);
  const upgraded: AppliedStep[] = await db.createOrUpgrade(schema, steps);
  const plan: Plan = await db.planDb(schema, true);
  const sql: string | null = plan.sql;
  const bytes: Uint8Array = await db.export();
  const copy: RemoteDatabase = await importDatabase("sqlite://", bytes, { transfer: true });
  await copy.restore(await db.export());
  const persistent: boolean = await db.isPersistent();
  const inMemory: boolean = await memory.isInMemory();
  const pragmas: { [name: string]: string } = await db.pragmas();
  const settings = await db.settings();
  const version: string = await sqliteVersion();
  await copy.close();
  await db.close();
  void [changed, named, many, inTx, state, done, total, differences, applied, status, upgraded,
    plan, persistent, inMemory, pragmas, settings, version];

  // @ts-expect-error a plain object is not a SQL value
  await db.exec("INSERT INTO n VALUES ($1)", [{ nested: true }]);
  // @ts-expect-error export returns bytes, not a string
  const wrong: string = await db.export();
  // @ts-expect-error the url is a string
  await openDatabase(42);
  void wrong;
}

async function inThread(): Promise<void> {
  await init();
  const db: Database = await Database.open("sqlite://", { echo: false });
  const n: number = db.exec("CREATE TABLE t (id INTEGER)");
  const m: number = db.execMany("INSERT INTO t VALUES (?)", [[1], [2]]);
  const rows: Row[] = db.query("SELECT id FROM t WHERE id > $1", [0]);
  const prepared: Statement = db.prepare("SELECT id FROM t WHERE id > $1");
  const arrays: RowArray[] = prepared.values([0]);
  prepared.all([0]);
  prepared.run([0]);
  const columns: string[] = prepared.columns();
  const text: string = prepared.sql;
  prepared.finalize();
  prepared.free();
  void [arrays, columns, text, db.queryArrays("SELECT 1")];
  const tx: Transaction = db.transaction(false);
  tx.queryArrays("SELECT 1");
  const began: "BEGIN IMMEDIATE" | "BEGIN DEFERRED" = tx.beganWith();
  tx.exec("INSERT INTO t VALUES ($1)", [3]);
  tx.execMany("INSERT INTO t VALUES ($1)", [[4]]);
  tx.query("SELECT 1 AS one");
  const state: string = tx.state();
  tx.commit();
  db.transaction(true).rollback();
  db.createDb(schema);
  db.dropDb(schema);
  const differences: string[] = db.verifyDb(schema);
  const applied: AppliedStep[] = db.migrate(steps);
  const status: StepStatus[] = db.migrationStatus(steps);
  db.createOrUpgrade(schema, steps);
  const plan: Plan = db.planDb(schema, false);
  const bytes: Uint8Array = db.export();
  const copy: Database = await Database.import(null, bytes);
  copy.restore(bytes);
  const stored: string | undefined = Database.storageName("sqlite:///app.db", null);
  const version: string = Database.sqliteVersion();
  const flags: boolean[] = [db.isInMemory(), db.isPersistent()];
  db.pragmas();
  db.settings();
  copy.close();
  copy.free();
  tx.free();
  db.close();
  void [n, m, rows, began, state, differences, applied, status, plan, version, flags, stored];
  // @ts-expect-error transaction() takes withForUpdate
  db.transaction();
}

function handle(e: unknown): ErrorKind | undefined {
  const error = e as DbconfigError;
  switch (error.kind) {
    case "Busy":
    case "NotADatabase":
    case "InvalidArgument":
    case "HolderChanged":
      return error.kind;
    default: {
      const code: number | undefined = error.code;
      void code;
      return undefined;
    }
  }
}

const params: Params = [1, "a", null, new Uint8Array(1), true, 3n];
void [remote, inThread, handle, params];
