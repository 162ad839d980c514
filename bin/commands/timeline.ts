// timeline: one self-contained HTML page of a store's ops over time, a lane per actor, conflicts
// marked, and each lane's and op's changes with their diffs (projections/timeline.ts).
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { resolvePosition } from '../../projections/positions.ts';
import { timelinePage } from '../../projections/timeline-page.ts';
import { buildTimeline } from '../../projections/timeline.ts';
import { needArg, openExisting } from './common.ts';

type Values = Record<string, string | boolean | undefined>;

const text = (value: string | boolean | undefined) => (typeof value === 'string' ? value : undefined);

export function runTimeline([db]: string[], values: Values): number {
  const out = needArg(text(values.out), '--out <page.html>');
  const store = openExisting(db, { readonly: true });
  try {
    const at = (value: string | undefined) => (value === undefined ? undefined : resolvePosition(store, value));
    const timeline = buildTimeline(store, { since: at(text(values.since)), until: at(text(values.until)) });
    const page = timelinePage(timeline, basename(db!));
    writeFileSync(out, page);
    const report = {
      out, bytes: Buffer.byteLength(page), ops: timeline.ops.length, opsInRange: timeline.opsInRange,
      lanes: timeline.lanes.length, conflicts: timeline.conflicts.length, cut: timeline.cut,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } else {
      const shown = timeline.cut.ops ? `the last ${report.ops} of ${report.opsInRange} ops` : `${report.ops} ops`;
      process.stdout.write(`wrote ${out}: ${shown} in ${report.lanes} lanes, ${report.conflicts} conflicts, ${Math.ceil(report.bytes / 1024)} KiB${timeline.cut.diffs ? ' (some diffs left out)' : ''}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}
