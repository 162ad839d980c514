// fork: a new replica (a new store file with its own origin) whose log is a prefix of another's,
// up to a position, with the chunks that prefix references and the checkpoint it follows; wsd or
// mount can use it at once. It is an export piped into an import (projections/export.ts): the
// same records, every one checked as it loads, and nothing left half made.
import { resolve } from 'node:path';
import type { ExportHeader } from '../../log/export-format.ts';
import { openStore } from '../../open-store.ts';
import { exportRecords, importRecords } from '../../projections/export.ts';
import { resolvePosition } from '../../projections/positions.ts';
import { createNew, needArg, openSnapshot } from './common.ts';
import { progress } from './output.ts';

export function runFork([db, out]: string[], values: { at?: string | boolean; json?: string | boolean }): number {
  const at = needArg(typeof values.at === 'string' ? values.at : undefined, '--at <position>');
  const file = resolve(needArg(out, '<new.db>'));
  const source = openSnapshot(db);
  let bar = null as ReturnType<typeof progress> | null;
  try {
    const position = resolvePosition(source, at);
    const made = createNew(file, (temporary): { header: ExportHeader; origin: string; fingerprint: string } => {
      const fork = openStore({ file: temporary });
      try {
        const header = importRecords(fork, exportRecords(source, position.ts, (done, total) => (bar ??= progress('fork', total)).update(done)));
        return { header, origin: fork.origin, fingerprint: fork.log.fingerprint() };
      } finally {
        fork.close();
      }
    });
    bar?.stop();
    const { ops, chunks, checkpoint } = made.header;
    const report = { store: file, origin: made.origin, from: source.origin, at: position.ts, ops, chunks, checkpoint: checkpoint && { ts: checkpoint.ts, ops: checkpoint.ops }, fingerprint: made.fingerprint };
    const after = checkpoint ? ` after a checkpoint of ${checkpoint.ops} ops` : '';
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `forked ${ops} ops${after} and ${chunks} chunks up to ${position.text} into ${file} (origin ${made.origin})\n`);
    return 0;
  } finally {
    bar?.stop();
    source.close();
  }
}
