// Hand-written declarations for dbconfig-wasm (checked by `tsc --noEmit` over
// wasm/e2e/package/usage.ts in the package test).

/** A value bound to a parameter: `$1, $2, …` (an array), `?`/`?N` (an array) or
 * `:name`/`@name`/`$name` (an object). Booleans are stored as 0/1, a `Date` as UTC text. */
export type SqlValue = null | undefined | boolean | number | bigint | string | Uint8Array | Date;

/** Parameters of one statement. */
export type Params = readonly SqlValue[] | { readonly [name: string]: SqlValue };

/** A column value read back: integers as numbers (BigInt beyond ±(2^53 − 1)), reals as
 * numbers, text as strings, blobs as `Uint8Array`, NULL as `null`. From the synchronous
 * {@link Database}, a blob of up to 2 KiB is a view of a shared buffer: `.slice()` it for one
 * of its own. */
export type ColumnValue = null | number | bigint | string | Uint8Array;

/** A row: `{ column: value }`. */
export type Row = { [column: string]: ColumnValue };

/** A row as its values in column order (`queryArrays`, `values`): the cheapest rows. */
export type RowArray = ColumnValue[];

/** A dbconfig schema: the object, or its JSON text. */
export type Schema = string | object;

/** One migration step; `sqlite` replaces `sql` here, `postgres` is for native PostgreSQL. */
export interface MigrationStep {
  id: string;
  description?: string;
  sql?: string;
  sqlite?: string;
  postgres?: string;
}

/** Steps as objects, or as `{ "0001_init.sql": "…" }` (what a bundler's glob import gives). */
export type Migrations = readonly MigrationStep[] | { readonly [fileName: string]: string };

export interface AppliedStep {
  id: string;
  description: string;
  durationMs: number;
}

export interface StepStatus {
  id: string;
  description: string;
  state: "applied" | "pending" | "unknown";
  appliedAt: string | null;
  checksumOk: boolean | null;
}

export interface Plan {
  changes: { kind: "additive" | "destructive" | "manual"; summary: string }[];
  /** The step's SQL, ready for `migrate`; `null` when there is nothing to do. */
  sql: string | null;
}

/** dbconfig's settings (the native `Settings` fields); missing ones take their defaults. */
export interface Settings {
  echo?: boolean;
  sqlite?: {
    busy_timeout?: number;
    pragmas?: { [name: string]: unknown };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** The `kind` of a {@link DbconfigError}: a stable name for `switch` statements. */
export type ErrorKind =
  | "Url"
  | "Settings"
  | "Schema"
  | "Busy"
  | "Sqlite"
  | "Pragma"
  | "TransactionDone"
  | "WrongDialect"
  | "Placeholders"
  | "Encode"
  | "Migration"
  | "NotADatabase"
  | "Dbconfig"
  | "InvalidArgument"
  | "NeedsWorker"
  | "Storage"
  | "Closed"
  | "TransactionOpen"
  | "Worker"
  /** A persistent database's holder tab closed or reloaded during the call: a call it had
   * received may or may not have run, and an open transaction was rolled back. Retry what is
   * safe to retry (the whole transaction, written to be idempotent). */
  | "HolderChanged";

/** What every call rejects with (or throws): `name` is `"DbconfigError"`; `code` is SQLite's
 * extended result code when SQLite reported the error. */
export interface DbconfigError extends Error {
  name: "DbconfigError";
  kind: ErrorKind;
  code?: number;
}

/** Loads the WebAssembly module (once); needed before the synchronous {@link Database}. */
export function init(
  moduleOrPath?:
    | { module_or_path: RequestInfo | URL | Response | BufferSource | WebAssembly.Module }
    | RequestInfo
    | URL
    | Response
    | BufferSource
    | WebAssembly.Module,
): Promise<unknown>;

/** A database in this thread (after `await init()`): synchronous calls. Persistent databases
 * need a dedicated worker; from the page use {@link openDatabase}. */
export class Database {
  private constructor();
  static open(url?: string | null, settings?: Settings | null): Promise<Database>;
  static import(url: string | null | undefined, bytes: Uint8Array, settings?: Settings | null): Promise<Database>;
  static sqliteVersion(): string;
  /** The OPFS name `url` is stored under; `undefined` when it is not persistent. */
  static storageName(url?: string | null, settings?: Settings | null): string | undefined;
  /** Runs `sql` with `params`; without them, `;`-separated statements (a script), where a
   * statement with placeholders throws kind `Placeholders` (values go in `params`). Returns the
   * rows changed. */
  exec(sql: string, params?: Params | null): number;
  execMany(sql: string, rows: readonly Params[]): number;
  query(sql: string, params?: Params | null): Row[];
  queryArrays(sql: string, params?: Params | null): RowArray[];
  /** Prepares `sql` once for many runs; a syntax error throws here. */
  prepare(sql: string): Statement;
  transaction(withForUpdate: boolean): Transaction;
  createDb(schema: Schema): void;
  dropDb(schema: Schema): void;
  verifyDb(schema: Schema): string[];
  migrate(steps: Migrations): AppliedStep[];
  migrationStatus(steps: Migrations): StepStatus[];
  createOrUpgrade(schema: Schema, steps: Migrations): AppliedStep[];
  planDb(schema: Schema, destructive: boolean): Plan;
  export(): Uint8Array;
  /** Replaces the content with `bytes` (a SQLite file); not a database: `"InvalidArgument"`. */
  restore(bytes: Uint8Array): void;
  isInMemory(): boolean;
  isPersistent(): boolean;
  pragmas(): { [name: string]: string };
  settings(): Settings;
  close(): void;
  free(): void;
}

/** A statement of a {@link Database}, prepared once; runs in the open transaction, if any. */
export class Statement {
  private constructor();
  readonly sql: string;
  run(params?: Params | null): number;
  all(params?: Params | null): Row[];
  values(params?: Params | null): RowArray[];
  columns(): string[];
  finalize(): void;
  free(): void;
}

/** An open transaction of a {@link Database}. */
export class Transaction {
  private constructor();
  exec(sql: string, params?: Params | null): number;
  execMany(sql: string, rows: readonly Params[]): number;
  query(sql: string, params?: Params | null): Row[];
  queryArrays(sql: string, params?: Params | null): RowArray[];
  beganWith(): "BEGIN IMMEDIATE" | "BEGIN DEFERRED";
  state(): "none" | "read" | "write";
  commit(): void;
  rollback(): void;
  free(): void;
}

/** Where the package's worker comes from: by default one it starts itself, shared by every
 * handle of the page; pass your own `Worker` running `dbconfig-wasm/worker.js` to choose. */
export interface RemoteOptions {
  worker?: Worker;
  settings?: Settings;
}

/** A transaction of a {@link RemoteDatabase}. */
export class RemoteTransaction {
  private constructor();
  /** True once committed or rolled back. */
  readonly done: boolean;
  exec(sql: string, params?: Params | null): Promise<number>;
  execMany(sql: string, rows: readonly Params[]): Promise<number>;
  query(sql: string, params?: Params | null): Promise<Row[]>;
  queryArrays(sql: string, params?: Params | null): Promise<RowArray[]>;
  state(): Promise<"none" | "read" | "write">;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** A {@link Statement} in the package's worker. */
export class RemoteStatement {
  private constructor();
  readonly sql: string;
  run(params?: Params | null): Promise<number>;
  all(params?: Params | null): Promise<Row[]>;
  values(params?: Params | null): Promise<RowArray[]>;
  columns(): Promise<string[]>;
  finalize(): Promise<void>;
}

/** A database opened in the package's worker: the {@link Database} methods, as promises. */
export class RemoteDatabase {
  private constructor();
  exec(sql: string, params?: Params | null): Promise<number>;
  execMany(sql: string, rows: readonly Params[]): Promise<number>;
  query(sql: string, params?: Params | null): Promise<Row[]>;
  queryArrays(sql: string, params?: Params | null): Promise<RowArray[]>;
  /** Prepares `sql` once in the worker; each run sends only the parameters. */
  prepare(sql: string): Promise<RemoteStatement>;
  transaction(withForUpdate?: boolean): Promise<RemoteTransaction>;
  /** Runs `work(tx)` in a transaction: commits when it resolves, rolls back when it throws. */
  withTransaction<T>(work: (tx: RemoteTransaction) => Promise<T>, withForUpdate?: boolean): Promise<T>;
  createDb(schema: Schema): Promise<void>;
  dropDb(schema: Schema): Promise<void>;
  verifyDb(schema: Schema): Promise<string[]>;
  migrate(steps: Migrations): Promise<AppliedStep[]>;
  migrationStatus(steps: Migrations): Promise<StepStatus[]>;
  createOrUpgrade(schema: Schema, steps: Migrations): Promise<AppliedStep[]>;
  planDb(schema: Schema, destructive?: boolean): Promise<Plan>;
  /** A consistent snapshot: a valid SQLite file, moved (not copied) from the worker. */
  export(): Promise<Uint8Array>;
  /** Replaces the content with `bytes` (a SQLite file), for every handle of the database. */
  restore(bytes: Uint8Array): Promise<void>;
  isInMemory(): Promise<boolean>;
  isPersistent(): Promise<boolean>;
  pragmas(): Promise<{ [name: string]: string }>;
  settings(): Promise<Settings>;
  close(): Promise<void>;
}

/** Opens `url` (default `sqlite://`, in memory; `sqlite:///app.db` persists in OPFS) in the
 * package's worker. */
export function openDatabase(url?: string, options?: RemoteOptions): Promise<RemoteDatabase>;

/** Opens `url` in the package's worker with `bytes` (a SQLite file) as its content; bytes that
 * are not a SQLite database reject with kind `"InvalidArgument"`. */
export function importDatabase(
  url: string,
  bytes: Uint8Array,
  options?: RemoteOptions & { transfer?: boolean },
): Promise<RemoteDatabase>;

/** The SQLite version of the package's worker. */
export function sqliteVersion(options?: RemoteOptions): Promise<string>;
