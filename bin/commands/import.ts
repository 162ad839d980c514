// import: a new store from an export file (spec/export.md). Every part is checked as it loads
// (chunks against their hashes, ops decoded and validated, each origin's seqs contiguous) and at
// the end what the file claims (its version vector, fingerprint and state digest). The new store
// holds the same ops under their own origins and makes its own under a new origin; a file that
// fails a check leaves nothing behind.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExportFormatError, readRecords, type ExportHeader } from '../../log/export-format.ts';
import { openStore } from '../../open-store.ts';
import { importRecords } from '../../projections/export.ts';
import { createNew, needArg } from './common.ts';
import { progress } from './output.ts';

/** Exactly `length` bytes at `offset`. */
function readAt(fd: number, offset: number, length: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(length);
  for (let at = 0; at < length;) {
    const n = readSync(fd, bytes, at, length - at, offset + at);
    if (n === 0) throw new ExportFormatError(`is truncated: it shrank to ${offset + at} bytes while it was read`);
    at += n;
  }
  return bytes;
}

export function runImport([input, out]: string[], values: { json?: string | boolean }): number {
  const source = resolve(needArg(input, '<file>'));
  const file = resolve(needArg(out, '<new.db>'));
  if (!existsSync(source)) throw new Error(`no export at ${source} (ledgerfs export makes one)`);
  const fd = openSync(source, 'r');
  let bar = null as ReturnType<typeof progress> | null;
  try {
    const size = fstatSync(fd).size;
    const { header, origin } = createNew(file, (temporary): { header: ExportHeader; origin: string } => {
      const store = openStore({ file: temporary });
      try {
        const records = readRecords(size, (offset, length) => readAt(fd, offset, length));
        return { header: importRecords(store, records, (done, total) => (bar ??= progress('import', total)).update(done)), origin: store.origin };
      } finally {
        store.close();
      }
    });
    bar?.stop();
    const { ops, chunks, checkpoint, fingerprint, versionVector } = header;
    const report = { store: file, origin, from: header.origin, at: header.at, ops, chunks, checkpoint: checkpoint && { ts: checkpoint.ts, ops: checkpoint.ops }, fingerprint, versionVector };
    const after = checkpoint ? ` after a checkpoint of ${checkpoint.ops} ops` : '';
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `imported ${ops} ops${after} and ${chunks} chunks from ${source} into ${file} (origin ${origin}; the ops keep theirs)\n`);
    return 0;
  } catch (error) {
    if (error instanceof ExportFormatError) throw new ExportFormatError(`${source} ${error.message}`);
    throw error;
  } finally {
    bar?.stop();
    closeSync(fd);
  }
}
