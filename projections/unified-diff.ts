// Unified diffs in @cloudflare/shell's format: `--- a` / `+++ b` headers, `@@ -l,n +l,n @@`
// hunks with 3 lines of context, lines split on "\n" (a final newline is an empty last line),
// joined with "\n", and "" when the texts are equal. The edit script comes from jsdiff; past
// DIFF_EDIT_LINES_MAX edited lines (jsdiff's time grows with the square of the edit, and a Durable
// Object or wsd answers on one thread) it is every line of a removed and every line of b added.
import { diffArrays } from 'diff';
import { DIFF_EDIT_LINES_MAX } from '../log/index.ts';

const CONTEXT_LINES = 3;

interface Edit {
  type: 'keep' | 'delete' | 'insert';
  lineA: number;
  lineB: number;
}

function edits(a: string[], b: string[]): Edit[] {
  const out: Edit[] = [];
  let lineA = 0;
  let lineB = 0;
  const script = diffArrays(a, b, { maxEditLength: DIFF_EDIT_LINES_MAX }) ?? [{ removed: true, added: false, count: a.length }, { added: true, removed: false, count: b.length }];
  for (const change of script) {
    for (let i = 0; i < change.count; i++) {
      if (change.added) out.push({ type: 'insert', lineA, lineB: lineB++ });
      else if (change.removed) out.push({ type: 'delete', lineA: lineA++, lineB });
      else out.push({ type: 'keep', lineA: lineA++, lineB: lineB++ });
    }
  }
  return out;
}

export function unifiedDiff(a: string, b: string, labelA: string, labelB: string): string {
  if (a === b) return '';
  const linesA = a.split('\n');
  const linesB = b.split('\n');
  const script = edits(linesA, linesB);
  const changed = script.flatMap((edit, i) => (edit.type === 'keep' ? [] : [i]));
  if (changed.length === 0) return '';
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  for (let i = 0; i < changed.length;) {
    const start = Math.max(0, changed[i]! - CONTEXT_LINES);
    let end = Math.min(script.length - 1, changed[i]! + CONTEXT_LINES);
    let j = i + 1;
    for (; j < changed.length && changed[j]! - CONTEXT_LINES <= end + 1; j++) end = Math.min(script.length - 1, changed[j]! + CONTEXT_LINES);
    const lines: string[] = [];
    let countA = 0;
    let countB = 0;
    for (const edit of script.slice(start, end + 1)) {
      if (edit.type !== 'insert') countA++;
      if (edit.type !== 'delete') countB++;
      lines.push(edit.type === 'keep' ? ` ${linesA[edit.lineA]}` : edit.type === 'delete' ? `-${linesA[edit.lineA]}` : `+${linesB[edit.lineB]}`);
    }
    out.push(`@@ -${script[start]!.lineA + 1},${countA} +${script[start]!.lineB + 1},${countB} @@`, ...lines);
    i = j;
  }
  return out.join('\n');
}
