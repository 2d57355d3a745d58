// The page: sends commands to the worker that owns the database and renders what comes back.
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const status = document.getElementById("status");
const body = document.querySelector("#results tbody");
let next = 0;
const waiting = new Map();

worker.onmessage = ({ data }) => {
  const { id, ok, result, error } = data;
  const done = waiting.get(id);
  waiting.delete(id);
  ok ? done.resolve(result) : done.reject(new Error(error));
};

function call(command, args = {}) {
  const id = next++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, command, args });
  });
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
    const text = await action();
    status.textContent = text;
  } catch (e) {
    status.textContent = `error: ${e.message}`;
  }
}

document.getElementById("setup").onclick = () => run("opening", async () => {
  const info = await call("setup");
  return `open: ${info.tables} tables, journal_mode=${info.pragmas.journal_mode}, ` +
    `foreign_keys=${info.pragmas.foreign_keys}, persistent=${info.persistent}, ` +
    `differences from the schema: ${info.differences}`;
});
document.getElementById("add").onclick = () => run("adding", async () => {
  const n = await call("add");
  return `added ${n} flows`;
});
document.getElementById("show").onclick = () => run("querying", async () => {
  const rows = await call("show");
  render(rows);
  return `${rows.length} flows`;
});
document.getElementById("clear").onclick = () => run("dropping", async () => {
  await call("drop");
  render([]);
  return "schema dropped";
});
