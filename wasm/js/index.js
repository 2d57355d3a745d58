// dbconfig-wasm: dbconfig's SQLite path in the browser.
//
// From the page: `openDatabase(url)` / `importDatabase(url, bytes)` (promises; the calls run in
// a worker the package starts, so OPFS persistence works). Inside your own worker, or for in-memory
// databases on the main thread: `await init()`, then the synchronous `Database`.
export { default as init, Database, Statement, Transaction } from "./dbconfig_wasm.js";
export {
  importDatabase,
  openDatabase,
  RemoteDatabase,
  RemoteStatement,
  RemoteTransaction,
  sqliteVersion,
} from "./client.js";
