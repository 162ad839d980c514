import { describe, expect, it } from 'vitest';
import { DIFF_EDIT_LINES_MAX } from '../log/index.ts';
import { unifiedDiff } from './unified-diff.ts';

describe('unifiedDiff', () => {
  it('gives hunks with 3 lines of context, and "" for equal texts', () => {
    expect(unifiedDiff('x\ny\nz', 'x\nY\nz', '/a', '/a')).toBe('--- /a\n+++ /a\n@@ -1,3 +1,3 @@\n x\n-y\n+Y\n z');
    expect(unifiedDiff('same', 'same', '/a', '/a')).toBe('');
  });

  it('past DIFF_EDIT_LINES_MAX edited lines, removes every line and adds every line instead of searching on', () => {
    const lines = (tag: string) => Array.from({ length: DIFF_EDIT_LINES_MAX }, (_, i) => `${tag}${i}`).join('\n');
    const diff = unifiedDiff(lines('a'), lines('b'), '/a', '/b').split('\n');
    expect(diff.slice(0, 3)).toEqual(['--- /a', '+++ /b', `@@ -1,${DIFF_EDIT_LINES_MAX} +1,${DIFF_EDIT_LINES_MAX} @@`]);
    expect(diff.slice(3).filter((l) => l.startsWith('-'))).toEqual(lines('a').split('\n').map((l) => `-${l}`));
    expect(diff.slice(3).filter((l) => l.startsWith('+'))).toEqual(lines('b').split('\n').map((l) => `+${l}`));
  });
});
