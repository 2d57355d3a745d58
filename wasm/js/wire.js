// Rows and parameters cross between JavaScript and wasm as one byte buffer per call instead of
// one boundary call per value (wasm-bindgen imports this module; see src/wire.rs). Checking a
// value's type from Rust and decoding each short string with TextDecoder were most of the cost
// of a bulk insert and of a point read.
//
// Values, little-endian: a tag byte, then
//   0 null/undefined | 1 number: f64 | 2 BigInt: i64 | 3 text: u32 length, UTF-8 |
//   4 bytes: u32 length, bytes | 5 boolean: u8 | 6 anything else (read from the JS value)
// Parameters: per row, a u32 count of values, then the values. Result rows: `columns` values
// per row, tags 0–4 only.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

let bytes = new Uint8Array(1 << 16);
let view = new DataView(bytes.buffer);

function reserve(at, need) {
  if (at + need <= bytes.length) return;
  let size = bytes.length * 2;
  while (size < at + need) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(bytes.subarray(0, at));
  bytes = grown;
  view = new DataView(grown.buffer);
}

function packValue(v, at) {
  switch (typeof v) {
    case "number":
      reserve(at, 9);
      bytes[at] = 1;
      view.setFloat64(at + 1, v, true);
      return at + 9;
    case "string": {
      const n = v.length;
      reserve(at, 5 + n * 3);
      bytes[at] = 3;
      // ASCII is copied here (TextEncoder's fixed cost dominates for short strings); from the
      // first other character on, TextEncoder encodes the rest.
      let end = at + 5;
      let i = 0;
      if (n <= 64) {
        for (; i < n; i++) {
          const c = v.charCodeAt(i);
          if (c > 0x7f) break;
          bytes[end++] = c;
        }
      }
      if (i < n) {
        end += encoder.encodeInto(i ? v.slice(i) : v, bytes.subarray(end, at + 5 + n * 3)).written;
      }
      view.setUint32(at + 1, end - at - 5, true);
      return end;
    }
    case "boolean":
      reserve(at, 2);
      bytes[at] = 5;
      bytes[at + 1] = v ? 1 : 0;
      return at + 2;
    case "undefined":
      reserve(at, 1);
      bytes[at] = 0;
      return at + 1;
    case "bigint":
      if (v >= I64_MIN && v <= I64_MAX) {
        reserve(at, 9);
        bytes[at] = 2;
        view.setBigInt64(at + 1, v, true);
        return at + 9;
      }
      break;
    case "object":
      if (v === null) {
        reserve(at, 1);
        bytes[at] = 0;
        return at + 1;
      }
      if (v instanceof Uint8Array) {
        reserve(at, 5 + v.length);
        bytes[at] = 4;
        view.setUint32(at + 1, v.length, true);
        bytes.set(v, at + 5);
        return at + 5 + v.length;
      }
      break;
  }
  reserve(at, 1);
  bytes[at] = 6;
  return at + 1;
}

/** `rows` (an array of arrays) packed, or `null` when a row is not an array. */
export function packRows(rows) {
  let at = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) return null;
    reserve(at, 4);
    view.setUint32(at, row.length, true);
    at += 4;
    for (let c = 0; c < row.length; c++) at = packValue(row[c], at);
  }
  return bytes.subarray(0, at);
}

/** One call's `params` packed as one row, or `null` when they are not an array. */
export function packParams(params) {
  return Array.isArray(params) ? packRows([params]) : null;
}

// Short ASCII strings are built in JS: TextDecoder's fixed cost dominates below a few dozen
// bytes.
function text(from, length, data) {
  if (length <= 32) {
    let s = "";
    for (let i = from; i < from + length; i++) {
      const b = data[i];
      if (b > 0x7f) return decoder.decode(data.subarray(from, from + length));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decoder.decode(data.subarray(from, from + length));
}

// Blobs up to POOLED bytes are views of a shared ArrayBuffer (as Node's Buffer pool does):
// allocating an ArrayBuffer per blob cost more than the rest of a point read. A larger blob
// gets its own buffer.
const POOL = 16384;
const POOLED = 2048;
let pool = new Uint8Array(POOL);
let pooled = 0;

function blob(data, from, length) {
  if (length > POOLED) return data.slice(from, from + length);
  if (pooled + length > POOL) {
    pool = new Uint8Array(POOL);
    pooled = 0;
  }
  const out = pool.subarray(pooled, pooled + length);
  out.set(data.subarray(from, from + length));
  pooled += length;
  return out;
}

/** Result rows from `data` (a view of wasm memory, read before returning): arrays, or objects
 * keyed by `names`. */
export function unpackRows(data, columns, names) {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const rows = [];
  let at = 0;
  while (at < data.length) {
    const row = names ? {} : new Array(columns);
    for (let c = 0; c < columns; c++) {
      let v;
      switch (data[at++]) {
        case 0:
          v = null;
          break;
        case 1:
          v = dv.getFloat64(at, true);
          at += 8;
          break;
        case 2:
          v = dv.getBigInt64(at, true);
          at += 8;
          break;
        case 3: {
          const n = dv.getUint32(at, true);
          v = text(at + 4, n, data);
          at += 4 + n;
          break;
        }
        default: {
          const n = dv.getUint32(at, true);
          v = blob(data, at + 4, n);
          at += 4 + n;
        }
      }
      if (names) row[names[c]] = v;
      else row[c] = v;
    }
    rows.push(row);
  }
  return rows;
}
