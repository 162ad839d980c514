// verify: the projections must equal a rebuild from the log, and every chunk an op in the log
// references must be present with the right hash. Exit 1 on any mismatch.
import { openExisting } from './common.ts';

export function runVerify([db]: string[], values: { json?: string | boolean }): number {
  const store = openExisting(db, { readonly: true });
  try {
    const projections = store.verify();
    const referenced = store.referencedChunks();
    const bad: string[] = [];
    for (const key of referenced) {
      try {
        store.chunks.get(Buffer.from(key, 'hex'));
      } catch (error) {
        bad.push(`${key}: ${(error as Error).message}`);
      }
    }
    const ok = projections.ok && bad.length === 0;
    const checkpoint = store.log.checkpoint && { ts: store.log.checkpoint.ts, ops: store.log.checkpoint.ops };
    const report = { ok, ops: store.log.count(), checkpoint, projections, chunks: { referenced: referenced.size, bad }, fingerprint: store.log.fingerprint() };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      process.stdout.write(`ops ${report.ops}${checkpoint ? ` after a checkpoint of ${checkpoint.ops} at ${checkpoint.ts}` : ''}\nprojections ${projections.ok ? 'ok' : `MISMATCH live ${projections.live} rebuilt ${projections.rebuilt}`}\n`);
      process.stdout.write(`chunks ${referenced.size} referenced, ${bad.length} bad\n${bad.map((line) => `  ${line}\n`).join('')}`);
      process.stdout.write(ok ? 'verify: ok\n' : 'verify: FAILED\n');
    }
    return ok ? 0 : 1;
  } finally {
    store.close();
  }
}
