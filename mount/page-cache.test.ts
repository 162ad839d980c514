// The bookkeeping behind each open's keep_cache answer, request by request as the driver makes
// them; the real-FUSE side is in mount/posix.test.ts and server/wsd.test.ts.
import { describe, expect, it } from 'vitest';
import { PageCache } from './page-cache.ts';

/** Content ops by inode, as the store's content table holds them. */
function setup() {
  const content = new Map<number, number>();
  let nextOp = 100;
  const commit = (ino: number) => content.set(ino, nextOp++);
  const pages = new PageCache((ino) => content.get(ino) ?? 0);
  let nextFh = 1;
  const open = (path: string, ino: number) => {
    const fh = nextFh++;
    return { fh, keep: pages.opened(path, fh, ino) };
  };
  /** a handle at `path` writes, then is released, committing its writes */
  const write = (path: string, ino: number) => {
    const { fh } = open(path, ino);
    pages.wrote(path, fh);
    pages.commits(fh, () => commit(ino));
    pages.released(fh);
  };
  const reopen = (path: string, ino: number) => {
    const { fh, keep } = open(path, ino);
    pages.released(fh);
    return keep;
  };
  return { pages, commit, open, write, reopen };
}

describe('PageCache', () => {
  it('keeps pages through the path that wrote them, never a first open or another file at the path', () => {
    const { write, reopen } = setup();
    expect(reopen('/a', 2)).toBe(false);
    expect(reopen('/a', 2)).toBe(true);
    write('/a', 2);
    expect(reopen('/a', 2)).toBe(true);
    expect(reopen('/a', 3)).toBe(false); // replaced at the same path
  });

  it('drops them after a commit it did not see: another name, the API, a replica', () => {
    const { write, reopen, commit } = setup();
    reopen('/a', 2);
    reopen('/b', 2); // a hard link: its own kernel inode
    write('/b', 2);
    expect([reopen('/a', 2), reopen('/b', 2)]).toEqual([false, true]);
    commit(2);
    expect(reopen('/b', 2)).toBe(false);
  });

  it('drops them when writes through two names of one inode were committed together', () => {
    const { pages, open, commit, reopen } = setup();
    const a = open('/a', 2);
    const b = open('/b', 2);
    pages.wrote('/a', a.fh);
    pages.wrote('/b', b.fh);
    pages.released(b.fh);
    pages.commits(a.fh, () => commit(2));
    pages.released(a.fh);
    expect([reopen('/a', 2), reopen('/b', 2)]).toEqual([false, false]);
  });

  it('drops an open\'s pages while another name holds writes not committed yet', () => {
    const { pages, open, reopen } = setup();
    reopen('/b', 2);
    const a = open('/a', 2);
    pages.wrote('/a', a.fh);
    expect(reopen('/b', 2)).toBe(false);
    expect(reopen('/a', 2)).toBe(true);
  });

  it('follows a rename of the file, and of a directory above it', () => {
    const { pages, write, reopen } = setup();
    write('/d/f', 2);
    reopen('/d/f', 2);
    pages.renamed('/d/f', '/d/g', false);
    expect([reopen('/d/f', 2), reopen('/d/g', 2)]).toEqual([false, true]);
    pages.renamed('/d', '/e', true);
    expect(reopen('/e/g', 2)).toBe(true);
    pages.removed('/e/g');
    expect(reopen('/e/g', 2)).toBe(false);
  });

  it('forgets the oldest paths past its bound, so memory stays fixed', () => {
    const { reopen } = setup();
    reopen('/first', 1);
    for (let i = 0; i < 4096; i++) reopen(`/f${i}`, 10 + i);
    expect(reopen('/f4095', 4105)).toBe(true);
    expect(reopen('/first', 1)).toBe(false);
  });
});
