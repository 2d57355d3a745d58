// The package's worker is an ES module (it imports the wasm-bindgen glue).
export default {
  worker: { format: "es" },
  build: { target: "es2022" },
};
