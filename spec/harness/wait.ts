// Waiting on things in end-to-end tests: a call that must fail, a state that must come.

/** What a call rejects with: capnweb carries the error's name, message and own fields. */
export async function failure(call: Promise<unknown>): Promise<{ name: string; message: string; code?: string }> {
  try {
    await call;
  } catch (error) {
    return error as { name: string; message: string; code?: string };
  }
  throw new Error('expected the call to fail');
}

/** Polls `probe` until it returns something other than undefined; fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
