// diff: what changed between two positions (default to: now), file by file: added, removed,
// moved, changed, with unified diffs of text files; --stat, --name-only, --json.
import type { FileChange } from '../../projections/changes.ts';
import { History } from '../../projections/history.ts';
import { latestPosition, resolvePosition } from '../../projections/positions.ts';
import { needArg, openExisting } from './common.ts';
import { formatChange } from './history-format.ts';
import { openOutput, type Output } from './output.ts';

type Values = Record<string, string | boolean | undefined>;

export const changeForm = (values: Values) => (values['name-only'] ? 'name' : values.stat ? 'stat' : 'full');

/** Prints changes in the form the flags ask for. */
export function printChanges(out: Output, changes: readonly FileChange[], values: Values): void {
  for (const change of changes) {
    if (values.json) out.line(JSON.stringify(change));
    else for (const line of formatChange(change, changeForm(values))) out.line(line);
  }
}

export async function runDiff([db, fromText, toText]: string[], values: Values): Promise<number> {
  needArg(fromText, '<from> position');
  const store = openExisting(db, { readonly: true });
  const history = new History(store);
  const out = openOutput();
  try {
    const from = resolvePosition(store, fromText);
    const to = toText === undefined ? latestPosition(store) : resolvePosition(store, toText);
    const patch = changeForm(values) === 'full';
    for (let after: string | undefined, more = true; more;) {
      const page = history.diff(from, to, { patch, after });
      printChanges(out, page.changes, values);
      ({ more } = page);
      after = page.cursor;
    }
    return 0;
  } finally {
    await out.end();
    history.close();
    store.close();
  }
}
