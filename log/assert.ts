/** An assertion failure is a bug in ledgerfs, never bad input: it throws and is not caught. */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}
