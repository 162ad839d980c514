// export: a store's workspace at a position (default: all of it) as one portable file
// (spec/export.md): the ops up to it, exactly the chunks they name, and the checkpoint they follow
// when the store has one. It reads one snapshot of the store, so a wsd or mount serving it may
// keep writing; ledgerfs import makes a new store of the file.
import { closeSync, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeRecord, preamble, type ExportHeader } from '../../log/export-format.ts';
import { exportRecords } from '../../projections/export.ts';
import { latestPosition, resolvePosition } from '../../projections/positions.ts';
import { createNew, needArg, openSnapshot } from './common.ts';
import { progress } from './output.ts';

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
}

export function runExport([db, out]: string[], values: { at?: string | boolean; json?: string | boolean }): number {
  const file = resolve(needArg(out, '<file>'));
  const store = openSnapshot(db);
  try {
    const position = typeof values.at === 'string' ? resolvePosition(store, values.at) : latestPosition(store);
    let bar = null as ReturnType<typeof progress> | null;
    let header: ExportHeader | undefined;
    try {
      createNew(file, (temporary) => {
        const fd = openSync(temporary, 'wx');
        try {
          writeAll(fd, preamble());
          for (const record of exportRecords(store, position.ts, (done, total) => (bar ??= progress('export', total)).update(done))) {
            if (record.type === 'header') header = record.header;
            writeAll(fd, encodeRecord(record));
          }
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      });
    } finally {
      bar?.stop();
    }
    const { ops, chunks, checkpoint, fingerprint } = header!;
    const report = {
      file, from: store.origin, at: position.ts, ops, chunks, checkpoint: checkpoint && { ts: checkpoint.ts, ops: checkpoint.ops }, bytes: statSync(file).size, fingerprint,
    };
    const after = checkpoint ? ` after a checkpoint of ${checkpoint.ops} ops` : '';
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `exported ${ops} ops${after} and ${chunks} chunks up to ${position.text} into ${file} (${report.bytes} bytes)\n`);
    return 0;
  } finally {
    store.close();
  }
}
