/** Polling for a condition that settles asynchronously (a flush, a poll, a file being written). */

/** Reads until `ok` holds or `ms` pass; returns the last value read (the caller's expect says what was wrong). */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v) && Date.now() < end) {
    await Bun.sleep(50);
    v = await read();
  }
  return v;
}
