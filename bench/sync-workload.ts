// What bench sync's source replica holds: the log bench's workload plus 1,000 files of 64 KiB,
// `ops` ops in all.
import { randomBytes } from 'node:crypto';
import { FileSystem, openStore, type Store } from '../index.ts';
import { workload } from './log.ts';

export const FILES = 1000;
const FILE_BYTES = 64 * 1024;

export function sourceStore(ops: number): Store {
  const source = openStore({ verifyChunks: false });
  const fs = FileSystem.live(source);
  const bodies = workload(source, ops - 2 * FILES - 1);
  source.transaction(() => {
    for (const body of bodies) source.commit(body, { kind: 'cli' });
  });
  source.transaction(() => {
    fs.mkdir('/files');
    for (let i = 0; i < FILES; i++) fs.writeFile(`/files/f${i}`, randomBytes(FILE_BYTES));
  });
  return source;
}

/** What the source holds: op and chunk bytes and counts, and its fingerprint. */
export function sourceFigures(source: Store) {
  const { count, bytes } = source.chunks.totals();
  return {
    opBytes: [...source.log.scan()].reduce((sum, s) => sum + s.bytes.length, 0),
    chunkBytes: bytes,
    count: source.log.count(),
    chunkCount: count,
    fingerprint: source.log.fingerprint(),
  };
}
