// A mistake in how a command was called: one line, exit 2. Light to import, so the CLI's front
// door can use it without loading a store.
export class UsageError extends Error {
  readonly code = 'EUSAGE';
}

export function needArg(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}
