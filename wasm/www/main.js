// The page: opens the persistent database through the package's worker API (`openDatabase`)
// and renders what comes back.
import { openDatabase } from "./pkg/index.js";

const status = document.getElementById("status");
const body = document.querySelector("#results tbody");
let opened;
let schema;

async function database() {
  if (!opened) {
    schema = await (await fetch("./schema.json")).text();
    opened = await openDatabase("sqlite:///demo.db");
  }
  return opened;
}

function render(rows) {
  body.replaceChildren(...rows.map((row) => {
    const tr = document.createElement("tr");
    for (const key of ["name", "tags", "created"]) {
      const td = document.createElement("td");
      td.textContent = String(row[key]);
      tr.append(td);
    }
    return tr;
  }));
}

async function run(label, action) {
  status.textContent = `${label}…`;
  try {
    status.textContent = await action();
  } catch (e) {
    status.textContent = `error: ${e.kind ?? e.name}: ${e.message}`;
  }
}

document.getElementById("setup").onclick = () => run("opening", async () => {
  const db = await database();
  await db.createDb(schema);
  const [{ n: tables }] = await db.query(
    "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'");
  const pragmas = await db.pragmas();
  const differences = (await db.verifyDb(schema)).length;
  return `open: ${tables} tables, journal_mode=${pragmas.journal_mode}, ` +
    `foreign_keys=${pragmas.foreign_keys}, persistent=${await db.isPersistent()}, ` +
    `differences from the schema: ${differences}`;
});
document.getElementById("add").onclick = () => run("adding", async () => {
  const db = await database();
  const n = await db.withTransaction((tx) => tx.execMany(
    "INSERT INTO flow (id, name, tags) VALUES ($1, $2, $3)",
    ["etl", "report", "backup"].map((name) => [
      crypto.randomUUID(),
      `${name}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
      JSON.stringify([name, "demo"]),
    ])), true);
  return `added ${n} flows`;
});
document.getElementById("show").onclick = () => run("querying", async () => {
  const db = await database();
  const rows = await db.query("SELECT name, tags, created FROM flow ORDER BY created, name");
  render(rows);
  return `${rows.length} flows`;
});
document.getElementById("clear").onclick = () => run("dropping", async () => {
  const db = await database();
  await db.dropDb(schema);
  render([]);
  return "schema dropped";
});
