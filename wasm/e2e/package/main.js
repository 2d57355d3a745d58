// The test app: the same module in a Vite build and in a plain page (an import map names the
// package there). Each load adds one row to an OPFS database through the package's worker API
// and reads them back; the test reads `window.result`. With `#memory-only` it opens nothing and
// only exposes the API (`window.dbconfig`) for the test to call.
import { openDatabase, importDatabase, sqliteVersion } from "dbconfig-wasm";

window.dbconfig = { openDatabase, importDatabase, sqliteVersion };
if (location.hash === "#memory-only") {
  // A second page of the test: no OPFS database of its own (one page holds it at a time).
  window.result = { memoryOnly: true };
} else try {
  const db = await openDatabase("sqlite:///app.db");
  await db.exec(
    "CREATE TABLE IF NOT EXISTS visit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, tag BLOB)");
  await db.withTransaction(async (tx) => {
    await tx.exec("INSERT INTO visit (at, tag) VALUES ($1, $2)", [new Date(), new Uint8Array([1, 2, 3])]);
  }, true);
  const rows = await db.query("SELECT id, at, tag FROM visit ORDER BY id");
  window.result = {
    visits: rows.length,
    ids: rows.map((r) => r.id),
    tagIsBytes: rows.every((r) => r.tag instanceof Uint8Array && r.tag.join() === "1,2,3"),
    persistent: await db.isPersistent(),
    version: await sqliteVersion(),
  };
  await db.close();
} catch (e) {
  window.result = { error: `${e.name}/${e.kind}: ${e.message}` };
}
document.title = "ready";
