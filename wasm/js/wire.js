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

/** Grows the buffer to hold `need` more bytes at `at`. */
function grow(at, need) {
  let size = bytes.length * 2;
  while (size < at + need) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(bytes.subarray(0, at));
  bytes = grown;
  view = new DataView(grown.buffer);
}

/** `rows` (an array of arrays) packed, or `null` when a row is not an array. One loop with the
 * buffer in locals: a function call per value cost a third of the packing time. Room is made
 * per row for 9 bytes a value (the most a number, BigInt or boolean takes) and again after each
 * string or blob for the values after it. */
export function packRows(rows) {
  let at = 0;
  let b = bytes;
  let dv = view;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) return null;
    const n = row.length;
    if (at + 4 + n * 9 > b.length) {
      grow(at, 4 + n * 9);
      b = bytes;
      dv = view;
    }
    dv.setUint32(at, n, true);
    at += 4;
    for (let c = 0; c < n; c++) {
      const v = row[c];
      if (typeof v === "number") {
        b[at] = 1;
        dv.setFloat64(at + 1, v, true);
        at += 9;
      } else if (typeof v === "string") {
        const length = v.length;
        const most = 5 + length * 3 + (n - c) * 9;
        if (at + most > b.length) {
          grow(at, most);
          b = bytes;
          dv = view;
        }
        b[at] = 3;
        // ASCII is copied here (TextEncoder's fixed cost dominates for short strings); from
        // the first other character on, TextEncoder encodes the rest.
        let end = at + 5;
        let i = 0;
        if (length <= 64) {
          for (; i < length; i++) {
            const ch = v.charCodeAt(i);
            if (ch > 0x7f) break;
            b[end++] = ch;
          }
        }
        if (i < length) {
          end += encoder.encodeInto(i ? v.slice(i) : v, b.subarray(end, at + 5 + length * 3)).written;
        }
        dv.setUint32(at + 1, end - at - 5, true);
        at = end;
      } else if (v instanceof Uint8Array) {
        const length = v.length;
        const most = 5 + length + (n - c) * 9;
        if (at + most > b.length) {
          grow(at, most);
          b = bytes;
          dv = view;
        }
        b[at] = 4;
        dv.setUint32(at + 1, length, true);
        b.set(v, at + 5);
        at += 5 + length;
      } else if (v === null || v === undefined) {
        b[at++] = 0;
      } else if (typeof v === "boolean") {
        b[at] = 5;
        b[at + 1] = v ? 1 : 0;
        at += 2;
      } else if (typeof v === "bigint" && v >= I64_MIN && v <= I64_MAX) {
        b[at] = 2;
        dv.setBigInt64(at + 1, v, true);
        at += 9;
      } else {
        b[at++] = 6; // Read from the JS value itself (a Date, a Temporal value, or an error).
      }
    }
  }
  return b.subarray(0, at);
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
