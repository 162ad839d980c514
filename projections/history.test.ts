// History from the node index: a file followed through renames (an editor's save), blame, diff,
// show, one command's changes, pages, and what a checkpoint leaves.
import { describe, expect, it } from 'vitest';
import { buildTimeline, FileSystem, History, openStore, resolvePosition } from '../index.ts';
import { DIFF_EDIT_LINES_MAX, DIFF_PAGE_EDIT_LINES_MAX, DIFF_PAGE_READ_BYTES_MAX, DIFF_TEXT_BYTES_MAX } from '../log/index.ts';

/** make writes a file, `sed -i` saves it through a temporary name, an editor appends, a mv renames it. */
function session() {
  const store = openStore();
  const fs = FileSystem.live(store);
  const make = fs.as({ kind: 'exec', id: 'exec-1', command: 'make' });
  make.mkdir('/src');
  make.writeFile('/src/a.txt', 'one\ntwo\nthree\n');
  const sed = fs.as({ kind: 'fuse', id: 'exec-2', pid: 42, uid: 0, command: 'sed -i s/two/TWO/ a.txt' });
  sed.writeFile('/src/.sedXYZ', 'one\nTWO\nthree\n');
  sed.rename('/src/.sedXYZ', '/src/a.txt');
  fs.writeFile('/src/a.txt', 'one\nTWO\nthree\nfour\n');
  fs.rename('/src/a.txt', '/src/b.txt');
  fs.writeFile('/bin.dat', new Uint8Array([0, 1, 2]));
  fs.writeFile('/gone.txt', 'bye\n');
  fs.unlink('/gone.txt');
  return { store, fs, history: new History(store) };
}

describe('history', () => {
  it('follows a file through the rename that replaced it and the rename that moved it', () => {
    const { history } = session();
    const { entries, more } = history.fileHistory('/src/b.txt');
    expect(more).toBe(false);
    expect(entries.map((e) => [e.kind, e.paths.join(' -> ')])).toEqual([
      ['create', '/src/a.txt'], ['setContent', '/src/a.txt'],
      ['create', '/src/.sedXYZ'], ['setContent', '/src/.sedXYZ'], ['move', '/src/.sedXYZ -> /src/a.txt'],
      ['setContent', '/src/a.txt'], ['move', '/src/a.txt -> /src/b.txt'],
    ]);
    expect(entries[3]!.actor).toMatchObject({ pid: 42, command: 'sed -i s/two/TWO/ a.txt' });
    const paged = history.fileHistory('/src/b.txt', { limit: 3 });
    expect(paged).toMatchObject({ more: true });
    const rest = history.fileHistory('/src/b.txt', { after: paged.cursor });
    expect([...paged.entries, ...rest.entries].map((e) => e.op)).toEqual(entries.map((e) => e.op));
    expect(history.fileHistory('/src').entries.map((e) => e.kind)).toEqual(['create', 'create', 'create', 'move', 'move']);
    expect(() => history.fileHistory('/gone.txt')).toThrow(/ENOENT.*not there now/);
  });

  it('blames each line on the op that wrote it, through the temporary name', () => {
    const { history } = session();
    const blame = history.blame('/src/b.txt');
    expect(blame.lines.map((l) => [l.text, l.actor?.command ?? l.actor?.kind])).toEqual([
      ['one', 'make'], ['TWO', 'sed -i s/two/TWO/ a.txt'], ['three', 'make'], ['four', 'api'],
    ]);
    expect(() => history.blame('/src')).toThrow(/EISDIR/);
    expect(() => history.blame('/bin.dat')).toThrow(/not a text file/);
  });

  it('diffs two positions: added, removed, moved, changed, with unified diffs', () => {
    const { store, history } = session();
    const afterMake = resolvePosition(store, '3');
    const page = history.diff(afterMake, resolvePosition(store, String(store.log.seqOf(store.origin))), { patch: true });
    expect(page.more).toBe(false);
    expect(page.changes.map((c) => [c.status, c.from ?? null, c.path, c.added, c.removed, c.note ?? null])).toEqual([
      ['changed', '/src/a.txt', '/src/b.txt', 2, 1, null],
      ['added', null, '/bin.dat', 0, 0, 'binary'],
    ]);
    expect(page.changes[0]!.patch).toContain('-two\n+TWO\n three\n+four');
    const moved = history.diff(resolvePosition(store, '7'), resolvePosition(store, '8'));
    expect(moved.changes).toMatchObject([{ status: 'moved', from: '/src/a.txt', path: '/src/b.txt' }]);
    const removed = history.diff(resolvePosition(store, '12'), resolvePosition(store, '13'));
    expect(removed.changes).toMatchObject([{ status: 'removed', path: '/gone.txt', removed: 1 }]);
    expect(() => history.diff(resolvePosition(store, '8'), resolvePosition(store, '7'))).toThrow(/goes forward/);
  });

  it('ends a diff page at the op past which it has read DIFF_PAGE_READ_BYTES_MAX of content, and the next page reads on', () => {
    const store = openStore();
    const fs = FileSystem.live(store);
    const files = Math.ceil(DIFF_PAGE_READ_BYTES_MAX / DIFF_TEXT_BYTES_MAX) + 2;
    for (let i = 0; i < files; i++) fs.writeFile(`/f${i}.txt`, `${'x'.repeat(DIFF_TEXT_BYTES_MAX - 1)}\n`);
    const history = new History(store);
    const to = resolvePosition(store, String(store.log.seqOf(store.origin)));
    const seen: string[] = [];
    let page = history.diff(resolvePosition(store, '1m'), to, { patch: true });
    expect(page.more).toBe(true);
    expect(page.changes.length).toBeLessThan(files);
    seen.push(...page.changes.map((c) => c.path));
    while (page.more) {
      page = history.diff(resolvePosition(store, '1m'), to, { patch: true, after: page.cursor });
      seen.push(...page.changes.map((c) => c.path));
    }
    expect(seen.sort()).toEqual(Array.from({ length: files }, (_, i) => `/f${i}.txt`).sort());
  });

  it('ends a page once its diffs have looked for their edit budget, and a timeline stops diffing there', () => {
    const store = openStore();
    const fs = FileSystem.live(store);
    const unrelated = (c: string) => `${c}\n`.repeat(DIFF_EDIT_LINES_MAX / 2 + 1);
    const files = 10;
    for (let i = 0; i < files; i++) fs.writeFile(`/f${i}`, unrelated('a'));
    const from = resolvePosition(store, String(store.log.seqOf(store.origin)));
    for (let i = 0; i < files; i++) fs.as({ kind: 'exec', id: `e${i}`, command: 'rewrite' }).writeFile(`/f${i}`, unrelated('b'));
    const history = new History(store);
    const to = resolvePosition(store, String(store.log.seqOf(store.origin)));
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 1; ; pages++) {
      const page = history.diff(from, to, { patch: true, after, editLinesMax: DIFF_EDIT_LINES_MAX, editBudget: { lines: DIFF_PAGE_EDIT_LINES_MAX } });
      expect(page.changes.length).toBeLessThanOrEqual(DIFF_PAGE_EDIT_LINES_MAX / DIFF_EDIT_LINES_MAX);
      for (const change of page.changes) expect(change.note).toBe('too many edits');
      seen.push(...page.changes.map((c) => c.path));
      if (!page.more) break;
      expect(pages).toBeLessThan(files);
      after = page.cursor;
    }
    expect(seen.sort()).toEqual(Array.from({ length: files }, (_, i) => `/f${i}`).sort());
    expect(buildTimeline(store).cut.diffs).toBe(true);
  });

  it('blames a version whose diff passes the edit bound as a rewrite, and says the blame is approximate', () => {
    const store = openStore();
    const fs = FileSystem.live(store);
    const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}\n`).join('');
    fs.writeFile('/f', `keep\n${lines('a', DIFF_EDIT_LINES_MAX)}`);
    fs.as({ kind: 'exec', id: 'rewrite', command: 'rewrite' }).writeFile('/f', `keep\n${lines('b', DIFF_EDIT_LINES_MAX)}`);
    const history = new History(store);
    const exact = history.blame('/f');
    expect(exact.approximate).toBe(false);
    expect(exact.lines[0]!.actor).toMatchObject({ kind: 'api' });
    const bounded = history.blame('/f', undefined, undefined, { editLinesMax: DIFF_EDIT_LINES_MAX, editBudget: { lines: DIFF_PAGE_EDIT_LINES_MAX } });
    expect(bounded.approximate).toBe(true);
    expect(bounded.lines.map((l) => l.text)).toEqual(exact.lines.map((l) => l.text));
    expect(new Set(bounded.lines.map((l) => l.actor?.id))).toEqual(new Set(['rewrite']));
  });

  it('shows one op with its diff, and what one command changed', () => {
    const { store, history } = session();
    const shown = history.show(resolvePosition(store, '5'), { patch: true });
    expect(shown.entry).toMatchObject({ kind: 'setContent', paths: ['/src/.sedXYZ'] });
    expect(shown.changes[0]!.patch).toContain('+TWO');
    expect(() => history.show(resolvePosition(store, '2001-01-01'))).toThrow(/show wants an op/);
    const sed = [...store.log.scan()].filter(({ op }) => op.actor.pid === 42);
    expect(history.changesOf(sed, { patch: true })).toMatchObject([{ status: 'changed', path: '/src/a.txt', added: 1, removed: 1 }]);
  });

  it('answers for the ops after a checkpoint from the checkpoint state', () => {
    const { store, fs } = session();
    store.compact(store.log.tsOf(store.origin, 7)!);
    fs.writeFile('/src/b.txt', 'new\n');
    const history = new History(store);
    expect(history.fileHistory('/src/b.txt').entries.map((e) => [e.kind, e.paths])).toEqual([['move', ['/src/a.txt', '/src/b.txt']], ['setContent', ['/src/b.txt']]]);
    expect(history.blame('/src/b.txt').lines).toMatchObject([{ text: 'new', actor: { kind: 'api' } }]);
    history.close();
  });

  it('builds the index for a store that predates it', () => {
    const { store } = session();
    store.sql.exec('DROP TABLE node_ops; DROP TABLE entry_ops; DROP TABLE parent_ops');
    const again = new (store.constructor as typeof import('../index.ts').Store)(store.sql);
    expect(new History(again).blame('/src/b.txt').lines).toHaveLength(4);
  });
});
