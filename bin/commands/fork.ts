// fork: a new replica (a new store file with its own origin) whose log is a prefix of another's,
// up to a position, with the chunks that prefix references; wsd or mount can use it at once.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CheckpointError, hex, OP_PAGE_COUNT, unpackManifest, type Op } from '../../log/index.ts';
import { openStore } from '../../open-store.ts';
import { resolvePosition } from '../../projections/positions.ts';
import { needArg, openExisting } from './common.ts';
import { progress } from './output.ts';

export function runFork([db, out]: string[], values: { at?: string | boolean; json?: string | boolean }): number {
  const at = needArg(typeof values.at === 'string' ? values.at : undefined, '--at <position>');
  const file = resolve(needArg(out, '<new.db>'));
  if (existsSync(file)) throw new Error(`${file} exists: fork writes a new store`);
  const source = openExisting(db, { readonly: true });
  try {
    if (source.log.checkpoint) throw new CheckpointError(`${db} has a checkpoint at ${source.log.checkpoint.ts}: a fork starts from a whole log (one without compaction)`);
    const position = resolvePosition(source, at);
    const fork = openStore({ file });
    const bar = progress('fork', source.log.count());
    let ops = 0;
    let batch: Op[] = [];
    const copied = new Set<string>();
    const flush = () => {
      fork.ingest(batch);
      batch = [];
    };
    try {
      for (const { op } of source.log.scan()) {
        if (op.ts > position.ts) break;
        if (op.kind === 'setContent') {
          for (const { hash } of unpackManifest(op.manifest)) {
            const key = hex(hash);
            if (!copied.has(key)) fork.chunks.putVerified(hash, source.chunks.get(hash));
            copied.add(key);
          }
        }
        batch.push(op);
        bar.update(++ops);
        if (batch.length >= OP_PAGE_COUNT) flush();
      }
      flush();
      bar.stop();
      const report = { store: file, origin: fork.origin, from: source.origin, at: position.ts, ops, chunks: copied.size, fingerprint: fork.log.fingerprint() };
      process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : `forked ${ops} ops and ${copied.size} chunks up to ${position.text} into ${file} (origin ${fork.origin})\n`);
      return 0;
    } finally {
      bar.stop();
      fork.close();
    }
  } finally {
    source.close();
  }
}
