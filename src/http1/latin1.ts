/**
 * Bytes to string, one byte per character (ISO-8859-1): how the codec turns
 * header bytes into strings, once per head. Not TextDecoder("latin1"), which
 * the WHATWG Encoding standard maps to windows-1252 (0x80 would become "€").
 */

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;

const native = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;

/** The bytes `buf[start, end)` as a string of char codes 0–255. */
export const latin1: (buf: Uint8Array, start: number, end: number) => string =
  typeof native === "function"
    ? (buf, start, end) => native.call(buf, start, end)
    : (buf, start, end) => Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("latin1", start, end);
