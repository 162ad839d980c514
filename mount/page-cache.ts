// Whether an open may keep the kernel's cached pages of a file (FOPEN_KEEP_CACHE). libfuse 2's
// path API gives each path its own kernel inode and cannot drop one inode's pages later, so
// the open is the one moment to say; kernel_cache (always keep) would show a change made by
// the API or another replica as stale pages, and auto_cache drops them whenever mtime changed,
// this mount's own writes included (64 MiB read again from SQLite after writing it).
//
// Pages are kept when they hold the file's current content: the file at the path is the one
// they were cached for, and every content op since came from writes through that same path
// (which went through those pages). Anything else (another path of a hard link, the API, a
// replica, a truncate by path) leaves the path's recorded version behind, and the open drops
// them. Writes by anything but the mount become a setContent before their call returns, even
// when the mount holds the file's write buffer open (writeFile, the Workspace and RPC flush
// it), so a flush here holds no one else's bytes.

/** Paths whose cached pages are tracked; an evicted path's next open drops its pages. */
const TRACKED_PATHS_MAX = 4096;

interface Version {
  ino: number;
  /** the content op the pages hold (0: never written) */
  op: number;
}

export class PageCache {
  /** path -> what its kernel inode's pages hold, oldest first */
  private readonly held = new Map<string, Version>();
  /** open handle -> its inode */
  private readonly files = new Map<number, number>();
  /** inode -> open handles of this mount on it */
  private readonly handles = new Map<number, number>();
  /** inode -> the one path its unflushed writes came through (null: more than one) */
  private readonly writer = new Map<number, string | null>();

  private readonly contentOf: (ino: number) => number;

  /** `contentOf`: an inode's current content op (0: never written). */
  constructor(contentOf: (ino: number) => number) {
    this.contentOf = contentOf;
  }

  /** A handle was opened (or created) at `path`; true when the kernel may keep its pages. */
  opened(path: string, fh: number, ino: number): boolean {
    this.files.set(fh, ino);
    this.handles.set(ino, (this.handles.get(ino) ?? 0) + 1);
    const op = this.contentOf(ino);
    const was = this.held.get(path);
    const pending = this.writer.get(ino);
    const keep = was !== undefined && was.ino === ino && was.op === op && (pending === undefined || pending === path);
    // Kept or dropped, the pages now hold `op`: reads fill them from it.
    this.held.delete(path);
    this.held.set(path, { ino, op });
    if (this.held.size > TRACKED_PATHS_MAX) this.held.delete(this.held.keys().next().value!);
    return keep;
  }

  /** The kernel wrote (or truncated) through `path`'s pages. */
  wrote(path: string, fh: number): void {
    const ino = this.files.get(fh);
    if (ino === undefined) return;
    const pending = this.writer.get(ino);
    if (pending === undefined) this.writer.set(ino, path);
    else if (pending !== path) this.writer.set(ino, null);
  }

  /** Runs a request that may commit the handle's writes (fsync, release). */
  commits<T>(fh: number, run: () => T): T {
    const ino = this.files.get(fh);
    if (ino === undefined) return run();
    const before = this.contentOf(ino);
    const result = run();
    const after = this.contentOf(ino);
    if (after !== before) {
      const path = this.writer.get(ino);
      this.writer.delete(ino);
      const was = path ? this.held.get(path) : undefined;
      if (was && was.ino === ino && was.op === before) was.op = after;
    }
    return result;
  }

  released(fh: number): void {
    const ino = this.files.get(fh);
    if (ino === undefined) return;
    this.files.delete(fh);
    const left = this.handles.get(ino)! - 1;
    if (left > 0) return void this.handles.set(ino, left);
    this.handles.delete(ino);
    this.writer.delete(ino);
  }

  /** libfuse moved the kernel inode at `from` (and, for a directory, those under it) to `to`. */
  renamed(from: string, to: string, dir: boolean): void {
    const moved = (path: string) => to + path.slice(from.length);
    const under = (path: string) => path === from || (dir && path.startsWith(`${from}/`));
    this.held.delete(to);
    // A directory's paths are found by scanning (at most TRACKED_PATHS_MAX); a file's by its own.
    for (const path of dir ? [...this.held.keys()] : [from]) {
      const version = this.held.get(path);
      if (!version || !under(path)) continue;
      this.held.delete(path);
      this.held.set(moved(path), version);
    }
    for (const [ino, path] of this.writer) if (path !== null && under(path)) this.writer.set(ino, moved(path));
  }

  removed(path: string): void {
    this.held.delete(path);
  }
}
