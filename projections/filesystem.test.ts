import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, FILE_BYTES_MAX, manifestCount, type SqlStatement } from '../log/index.ts';
import { canonicalTree, FileSystem, FsError, openSqlite, openStore, RENAME_EXCHANGE, RENAME_NOREPLACE, Store, XATTR_CREATE, XATTR_REPLACE } from '../index.ts';
import { READAHEAD_ENTRIES_MAX, READAHEAD_MISSES } from './rows.ts';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_APPEND, O_TRUNC } = constants;

function fresh() {
  const store = openStore();
  return { store, fs: FileSystem.live(store) };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const notBefore = ([sec, nsec]: readonly number[], [sec0, nsec0]: readonly number[]) => sec! > sec0! || (sec === sec0 && nsec! >= nsec0!);
const names = (fs: FileSystem, path: string) => fs.readdir(path).map((e) => text(e.name));

/** An in-memory SQLite that counts the queries run on it and the rows they return. */
function countingSql() {
  const sql = openSqlite(':memory:');
  const reads = { queries: 0, rows: 0 };
  const prepare = sql.prepare.bind(sql);
  sql.prepare = <Row>(text: string): SqlStatement<Row> => {
    const stmt = prepare<Row>(text);
    const counted = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A) => {
      reads.queries++;
      const result = fn(...args);
      reads.rows += Array.isArray(result) ? result.length : result === undefined ? 0 : 1;
      return result;
    };
    return { ...stmt, values: counted(stmt.values), get: counted(stmt.get), all: counted(stmt.all) };
  };
  return { sql, reads };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof FsError) return error.code;
    throw error;
  }
  return 'ok';
}

describe('FileSystem', () => {
  it('commits writeFile at once while another handle holds the file open for writing', () => {
    const { fs } = fresh();
    fs.writeFile('/held', 'before');
    const ino = fs.stat('/held').ino;
    const held = fs.open('/held', O_RDWR); // a mount's handle: it keeps the write buffer open
    const op = fs.reader.content(ino)!.op;
    fs.writeFile('/held', 'after');
    expect(fs.reader.content(ino)!.op).not.toBe(op);
    expect(fs.reader.content(ino)!.size).toBe(5);
    fs.release(held);
  });

  it('creates, reads and lists', () => {
    const { fs } = fresh();
    fs.mkdir('/src');
    fs.writeFile('/src/main.c', 'int main;');
    expect(text(fs.readFile('/src/main.c'))).toBe('int main;');
    expect(names(fs, '/')).toEqual(['src']);
    expect(fs.stat('/src').nlink).toBe(2);
    expect(fs.stat('/').nlink).toBe(3);
    expect(fs.stat('/src/main.c')).toMatchObject({ type: 'file', size: 9, nlink: 1, mode: 0o100644 });
  });

  it('returns POSIX errors with .code', () => {
    const { fs } = fresh();
    fs.mkdir('/d');
    fs.writeFile('/f', 'x');
    expect(code(() => fs.stat('/missing'))).toBe('ENOENT');
    expect(code(() => fs.mkdir('/d'))).toBe('EEXIST');
    expect(code(() => fs.mkdir('/f/x'))).toBe('ENOTDIR');
    expect(code(() => fs.stat('/f/'))).toBe('ENOTDIR');
    expect(code(() => fs.unlink('/d'))).toBe('EISDIR');
    expect(code(() => fs.rmdir('/f'))).toBe('ENOTDIR');
    expect(code(() => fs.open('/d', O_WRONLY))).toBe('EISDIR');
    expect(code(() => fs.open('/f', O_CREAT | O_EXCL | O_WRONLY))).toBe('EEXIST');
    expect(code(() => fs.readlink('/f'))).toBe('EINVAL');
    expect(code(() => fs.stat(`/${'n'.repeat(256)}`))).toBe('ENAMETOOLONG');
    // PATH_MAX bounds what a process passes (the kernel, the RPC surface), not a path from the root.
    expect(code(() => fs.stat(`/${'a/'.repeat(2100)}`))).toBe('ENOENT');
    expect(code(() => fs.rmdir('/'))).toBe('EBUSY');
    expect(code(() => fs.mkdir('/d/..'))).toBe('EINVAL');
    expect(code(() => fs.truncate('/f', -1))).toBe('EINVAL');
    expect(code(() => fs.truncate('/d', 0))).toBe('EISDIR');
    expect(code(() => fs.link('/d', '/d2'))).toBe('EPERM');
    fs.writeFile('/d/inner', '');
    expect(code(() => fs.rmdir('/d'))).toBe('ENOTEMPTY');
    expect(code(() => fs.read(999, 0, 1))).toBe('EBADF');
    expect(code(() => fs.readFile('/d'))).toBe('EISDIR');
    expect(code(() => fs.readFile('/missing'))).toBe('ENOENT');
    expect(code(() => fs.readFile('/f/x'))).toBe('ENOTDIR');
    expect(new FsError('ENOENT', 'stat', '/x').errno).toBe(2);
  });

  it('keeps names byte-safe', () => {
    const { fs } = fresh();
    const name = Buffer.from([0x66, 0xff, 0xfe, 0x0a, 0x20]);
    fs.writeFile(Buffer.concat([Buffer.from('/'), name]), 'raw');
    expect(Buffer.from(fs.readdir('/')[0]!.name).equals(name)).toBe(true);
    expect(code(() => fs.writeFile('/a\0b', 'x'))).toBe('EINVAL');
  });

  it('refuses strings that are not valid Unicode, changing nothing', () => {
    const { store, fs } = fresh();
    fs.writeFile('/f', 'x');
    const ops = store.log.count();
    for (const call of [
      () => fs.writeFile('/bad-\uD800.txt', 'x'),
      () => fs.writeFile('/ok.txt', 'half \uDC00'),
      () => fs.mkdir('/\uDFFFd'),
      () => fs.symlink('t\uD800', '/lnk'),
      () => fs.setxattr('/f', 'user.\uD800', Buffer.from('v')),
      () => fs.stat('/\uD800'),
    ]) expect(code(call)).toBe('EINVAL');
    expect(store.log.count()).toBe(ops);
    expect(names(fs, '/')).toEqual(['f']);
    fs.writeFile('/pair-\uD83D\uDE00', 'a surrogate pair is one character');
    expect(names(fs, '/')).toContain('pair-\u{1F600}');
  });

  it('takes paths longer than PATH_MAX from the root (a deep tree), names up to NAME_MAX', () => {
    const { fs } = fresh();
    let dir = '';
    for (let depth = 0; dir.length <= 8192; depth++) {
      dir += `/${String(depth).padStart(3, '0')}${'d'.repeat(250)}`;
      fs.mkdir(dir);
    }
    fs.writeFile(`${dir}/f`, 'deep');
    expect(text(fs.readFile(`${dir}/f`))).toBe('deep');
    expect(code(() => fs.mkdir(`${dir}/${'n'.repeat(256)}`))).toBe('ENAMETOOLONG');
  });

  it('follows symlinks, at most 40 hops', () => {
    const { fs } = fresh();
    fs.mkdir('/real');
    fs.writeFile('/real/file', 'data');
    fs.symlink('real', '/rel');
    fs.symlink('/real/file', '/abs');
    expect(text(fs.readFile('/rel/file'))).toBe('data');
    expect(text(fs.readFile('/abs'))).toBe('data');
    expect(fs.lstat('/abs').type).toBe('symlink');
    expect(text(fs.readlink('/abs'))).toBe('/real/file');
    fs.symlink('loop', '/loop');
    expect(code(() => fs.stat('/loop'))).toBe('ELOOP');
    expect(code(() => fs.readFile('/loop'))).toBe('ELOOP');
    for (let i = 0; i < 41; i++) fs.symlink(`/c${i + 1}`, `/c${i}`);
    fs.writeFile('/c41', 'end');
    expect(code(() => fs.stat('/c0'))).toBe('ELOOP');
    expect(text(fs.readFile('/c1'))).toBe('end');
    fs.symlink('../real', '/real/up');
    expect(names(fs, '/real/up')).toEqual(['file', 'up']);
  });

  it('renames with replace rules and renameat2 flags', () => {
    const { fs } = fresh();
    fs.mkdir('/a');
    fs.mkdir('/b');
    fs.writeFile('/a/x', 'x');
    fs.writeFile('/b/y', 'y');
    expect(code(() => fs.rename('/a', '/a/sub'))).toBe('EINVAL');
    expect(code(() => fs.rename('/a/x', '/b'))).toBe('EISDIR');
    expect(code(() => fs.rename('/a', '/b/y'))).toBe('ENOTDIR');
    expect(code(() => fs.rename('/a', '/b'))).toBe('ENOTEMPTY');
    expect(code(() => fs.rename('/a/x', '/b/y', RENAME_NOREPLACE))).toBe('EEXIST');
    expect(code(() => fs.rename('/a/none', '/b/z'))).toBe('ENOENT');
    expect(code(() => fs.rename('/a/x', '/b/none', RENAME_EXCHANGE))).toBe('ENOENT');
    expect(code(() => fs.rename('/a/x', '/b/y', RENAME_EXCHANGE | RENAME_NOREPLACE))).toBe('EINVAL');
    fs.rename('/a/x', '/b/y');
    expect(text(fs.readFile('/b/y'))).toBe('x');
    expect(names(fs, '/a')).toEqual([]);
    fs.writeFile('/a/x', 'new');
    fs.rename('/a/x', '/b/y', RENAME_EXCHANGE);
    expect(text(fs.readFile('/b/y'))).toBe('new');
    expect(text(fs.readFile('/a/x'))).toBe('x');
    fs.rename('/a', '/b', RENAME_EXCHANGE);
    expect(names(fs, '/b')).toEqual(['x']);
    expect(names(fs, '/a')).toEqual(['y']);
  });

  it('hard links share content and count links', () => {
    const { fs } = fresh();
    fs.writeFile('/one', 'shared');
    fs.link('/one', '/two');
    expect(fs.stat('/one').nlink).toBe(2);
    const fh = fs.open('/two', O_WRONLY | O_TRUNC);
    fs.write(fh, Buffer.from('changed'), 0);
    fs.release(fh);
    expect(text(fs.readFile('/one'))).toBe('changed');
    fs.unlink('/one');
    expect(fs.stat('/two').nlink).toBe(1);
    fs.rename('/two', '/two');
  });

  it('keeps bytes of an unlinked open file until the last close', () => {
    const { fs, store } = fresh();
    fs.writeFile('/tmp', 'still here');
    const fh = fs.open('/tmp', O_RDWR);
    fs.unlink('/tmp');
    expect(fs.exists('/tmp')).toBe(false);
    expect(text(fs.read(fh, 0, 100))).toBe('still here');
    fs.write(fh, Buffer.from('!'), 10);
    expect(fs.fstat(fh)).toMatchObject({ nlink: 0, size: 11 });
    fs.release(fh);
    expect(store.verify().ok).toBe(true);
  });

  it('commits one setContent op per release, shared by all handles', () => {
    const { fs, store } = fresh();
    const before = store.log.count();
    const a = fs.open('/f', O_CREAT | O_WRONLY);
    const b = fs.open('/f', O_RDWR);
    for (let i = 0; i < 100; i++) fs.write(a, Buffer.from('ab'), i * 2);
    expect(text(fs.read(b, 0, 4))).toBe('abab');
    expect(fs.stat('/f').size).toBe(200);
    expect(text(fs.readFile('/f'))).toBe('ab'.repeat(100)); // what the open buffer holds, not committed yet
    fs.release(a);
    expect(store.log.count()).toBe(before + 1);
    fs.write(b, Buffer.from('Z'), 0);
    fs.release(b);
    const kinds = [...store.log.scan()].map((s) => s.op.kind);
    expect(kinds).toEqual(['create', 'setContent']);
    expect(text(fs.readFile('/f')).slice(0, 3)).toBe('Zba');
  });

  it('appends with O_APPEND and truncates with O_TRUNC', () => {
    const { fs } = fresh();
    fs.writeFile('/log', 'one\n');
    const fh = fs.open('/log', O_WRONLY | O_APPEND);
    fs.write(fh, Buffer.from('two\n'), 0);
    fs.release(fh);
    expect(text(fs.readFile('/log'))).toBe('one\ntwo\n');
    fs.release(fs.open('/log', O_WRONLY | O_TRUNC));
    expect(fs.stat('/log').size).toBe(0);
    expect(code(() => fs.write(fs.open('/log', O_RDONLY), Buffer.from('x'), 0))).toBe('EBADF');
  });

  it('handles sparse writes, truncation and multi-chunk files', () => {
    const { fs, store } = fresh();
    const fh = fs.open('/big', O_CREAT | O_RDWR);
    fs.write(fh, Buffer.from('tail'), 3 * CHUNK_BYTES + 5);
    expect(fs.fstat(fh).size).toBe(3 * CHUNK_BYTES + 9);
    expect(Buffer.from(fs.read(fh, CHUNK_BYTES, 4)).equals(Buffer.alloc(4))).toBe(true);
    fs.fsync(fh);
    fs.ftruncate(fh, CHUNK_BYTES + 2);
    fs.ftruncate(fh, 3 * CHUNK_BYTES + 9);
    expect(Buffer.from(fs.read(fh, 3 * CHUNK_BYTES + 5, 4)).equals(Buffer.alloc(4))).toBe(true);
    fs.release(fh);
    expect(fs.stat('/big').size).toBe(3 * CHUNK_BYTES + 9);
    fs.truncate('/big', 3);
    expect(fs.stat('/big').size).toBe(3);
    expect(store.gc()).toEqual({ count: 0, bytes: 0 });
    expect(store.verify().ok).toBe(true);
  });

  it('overwrites a file in order without reading what it replaces, and keeps the rest of a chunk it began', () => {
    const { fs, store } = fresh();
    const old = Buffer.alloc(2 * CHUNK_BYTES + 100, 'o');
    fs.writeFile('/f', old);
    const fh = fs.open('/f', O_RDWR);
    let fetched = 0;
    const get = store.chunks.get.bind(store.chunks);
    store.chunks.get = (digest) => (fetched++, get(digest));
    const piece = CHUNK_BYTES / 4;
    for (let at = 0; at < CHUNK_BYTES; at += piece) fs.write(fh, Buffer.alloc(piece, 'n'), at);
    fs.write(fh, Buffer.from('nn'), CHUNK_BYTES);
    expect(fetched).toBe(0);
    // The second chunk: its first two bytes written, the rest still the old bytes.
    const into = Buffer.alloc(8);
    expect(text(fs.read(fh, CHUNK_BYTES - 2, 6, into))).toBe('nnnnoo');
    expect(fetched).toBe(1);
    fs.write(fh, Buffer.from('N'), 2 * CHUNK_BYTES);
    fs.ftruncate(fh, 2 * CHUNK_BYTES + 50);
    fs.ftruncate(fh, 2 * CHUNK_BYTES + 60);
    fs.release(fh);
    const expected = Buffer.concat([Buffer.alloc(CHUNK_BYTES + 2, 'n'), old.subarray(CHUNK_BYTES + 2, 2 * CHUNK_BYTES), Buffer.from('N'), old.subarray(0, 49), Buffer.alloc(10)]);
    expect(Buffer.from(fs.readFile('/f')).equals(expected)).toBe(true);
    expect(store.verify().ok).toBe(true);
  });

  it('keeps holes as holes: a file costs what is written, not its size', () => {
    const { fs, store } = fresh();
    const TIB = 2 ** 40;
    fs.writeFile('/sparse', 'head');
    fs.truncate('/sparse', TIB);
    const fh = fs.open('/sparse', O_RDWR);
    fs.write(fh, Buffer.from('tail'), TIB);
    fs.write(fh, Buffer.alloc(CHUNK_BYTES), 4 * CHUNK_BYTES);
    expect(fs.fstat(fh)).toMatchObject({ size: TIB + 4 });
    fs.release(fh);
    const { ino, size, blocks } = fs.stat('/sparse');
    expect([size, blocks]).toEqual([TIB + 4, Math.ceil((CHUNK_BYTES + 4) / 512)]);
    expect(manifestCount(fs.reader.content(ino)!.manifest)).toBe(2);
    // the first content's 4 bytes, the head padded to a whole chunk as the file grew, the tail
    expect(store.chunks.totals().count).toBe(3);
    const read = fs.open('/sparse', O_RDONLY);
    expect(text(fs.read(read, 0, 4))).toBe('head');
    expect(Buffer.from(fs.read(read, TIB / 2, CHUNK_BYTES + 3)).equals(Buffer.alloc(CHUNK_BYTES + 3))).toBe(true);
    expect(text(fs.read(read, TIB - 2, 100))).toBe('\0\0tail');
    fs.release(read);

    fs.truncate('/sparse', 999_999_999_999_999);
    expect(fs.stat('/sparse').size).toBe(999_999_999_999_999);
    expect(code(() => fs.truncate('/sparse', FILE_BYTES_MAX + 1))).toBe('EFBIG');
    const append = fs.open('/sparse', O_WRONLY);
    expect(code(() => fs.write(append, Buffer.from('x'), FILE_BYTES_MAX))).toBe('EFBIG');
    fs.release(append);
    fs.truncate('/sparse', 2);
    expect(text(fs.readFile('/sparse'))).toBe('he');
    expect(store.verify().ok).toBe(true);
  });

  it('makes (at most levelsMax levels a call) and removes a deep tree in one walk (mkdir -p, rm -r)', () => {
    const { fs, store } = fresh();
    const deep = '/a'.repeat(2047);
    expect(fs.mkdirp(deep, 0o755, 1000)).toEqual({ first: 0, made: 1000 });
    expect(code(() => fs.stat(deep))).toBe('ENOENT');
    expect(fs.mkdirp(deep, 0o755, 1000)).toEqual({ first: 1000, made: 1000 });
    expect(fs.mkdirp(deep)).toEqual({ first: 2000, made: 47 });
    expect(fs.stat(deep).type).toBe('dir');
    expect(fs.mkdirp(deep)).toEqual({ first: 2047, made: 0 });
    fs.symlink('a', '/link');
    expect(fs.mkdirp('/link/./b/../c')).toEqual({ first: 2, made: 2 });
    expect(names(fs, '/a')).toEqual(['a', 'b', 'c']);
    fs.writeFile('/file', 'x');
    expect(code(() => fs.mkdirp('/file/d'))).toBe('ENOTDIR');
    expect(code(() => fs.rm('/a'))).toBe('EISDIR');
    fs.rm('/link');
    fs.rm('/a', true);
    expect(names(fs, '/')).toEqual(['file']);
    expect(store.verify().ok).toBe(true);
  });

  it('reads a directory whole once lookups in it keep missing the cache, and no larger one than READAHEAD_ENTRIES_MAX', () => {
    const { sql, reads } = countingSql();
    const store = new Store(sql);
    const fs = FileSystem.live(store);
    fs.mkdir('/d');
    for (let i = 0; i < 20; i++) fs.writeFile(`/d/f${i}`, 'x'.repeat(i));
    fs.mkdir('/big');
    store.transaction(() => {
      for (let i = 0; i <= READAHEAD_ENTRIES_MAX; i++) fs.mkdir(`/big/${i}`);
    });
    const cold = (paths: string[]) => {
      store.projector.reset(); // what a reopened store knows: nothing
      reads.queries = reads.rows = 0;
      for (const path of paths) fs.stat(path);
      return { ...reads };
    };
    const files = Array.from({ length: 20 }, (_, i) => `/d/f${i}`);
    // /d itself, a query per miss in /d; the last of READAHEAD_MISSES finds /d small enough and reads it whole instead
    expect(cold(files)).toEqual({ queries: 1 + READAHEAD_MISSES + 1, rows: 1 + READAHEAD_MISSES - 1 + 20 });
    expect(files.map((path) => fs.stat(path).size)).toEqual(files.map((_, i) => i));
    // a name the directory does not hold is asked of SQL, as before
    expect(code(() => fs.stat('/d/none'))).toBe('ENOENT');
    // /big has more than READAHEAD_ENTRIES_MAX entries: the probe says so without reading them, and
    // every miss is a query of its own
    expect(cold(Array.from({ length: 20 }, (_, i) => `/big/${i}`))).toEqual({ queries: 1 + 20 + 1, rows: 1 + 20 + 1 });
    store.close();
  });

  it("knows a new file has no xattrs without asking SQL, and keeps what is set on it", () => {
    const { sql, reads } = countingSql();
    const store = new Store(sql);
    const fs = FileSystem.live(store);
    fs.writeFile('/old', 'x');
    fs.setxattr('/old', 'user.kept', Buffer.from('1'));
    store.projector.reset();
    fs.stat('/old'); // reads the node: what follows counts xattr queries alone
    reads.queries = 0;
    expect(text(fs.getxattr('/old', 'user.kept'))).toBe('1');
    expect(code(() => fs.getxattr('/old', 'user.none'))).toBe('ENODATA');
    expect(reads.queries).toBe(2); // a node made before the cache began: its xattrs come from SQL
    store.transaction(() => {
      fs.writeFile('/new', 'x');
      reads.queries = 0;
      // what a write through the mount asks of a new file, and a Workspace's mime type
      expect(code(() => fs.getxattr('/new', 'security.capability'))).toBe('ENODATA');
      fs.setxattr('/new', 'user.mime_type', Buffer.from('text/x'), XATTR_CREATE);
      expect(text(fs.getxattr('/new', 'user.mime_type'))).toBe('text/x');
      fs.setxattr('/new', 'user.big', new Uint8Array(1000));
      expect(reads.queries).toBe(0);
      // a value too long to cache: that name is asked of SQL, and the others no longer known whole
      expect(fs.getxattr('/new', 'user.big').length).toBe(1000);
      expect(code(() => fs.getxattr('/new', 'user.none'))).toBe('ENODATA');
      expect(reads.queries).toBe(2);
    });
    expect(text(fs.getxattr('/new', 'user.mime_type'))).toBe('text/x');
    store.close();
  });

  it("keeps none of a caller's arrays: changing a path, target, data or xattr after the call changes nothing", () => {
    const { store, fs } = fresh();
    const bytes = (text: string) => Buffer.from(text);
    const [dir, target, data, name, value, from, to, gone] = ['/dir', 'target', 'data', 'user.k', 'value', '/dir/a', '/dir/b', 'user.gone'].map(bytes);
    // in one transaction, so the rows are written after the arrays changed
    store.transaction(() => {
      fs.mkdir(dir);
      fs.symlink(target, '/dir/link');
      fs.writeFile('/dir/a', data);
      fs.setxattr('/dir/a', name, value);
      fs.setxattr('/dir/a', 'user.gone', value);
      fs.removexattr('/dir/a', gone);
      fs.rename(from, to);
      for (const array of [dir, target, data, name, value, from, to, gone]) array.fill(0x78);
    });
    expect(names(fs, '/dir')).toEqual(['b', 'link']);
    expect(text(fs.readlink('/dir/link'))).toBe('target');
    expect(text(fs.readFile('/dir/b'))).toBe('data');
    expect(text(fs.getxattr('/dir/b', 'user.k'))).toBe('value');
    expect(code(() => fs.getxattr('/dir/b', 'user.gone'))).toBe('ENODATA');
    expect(store.verify().ok).toBe(true);
    expect(code(() => fs.setxattr('/dir/b', 'user.k', 'text' as unknown as Uint8Array))).toBe('EINVAL');
    store.close();
  });

  it('changes attributes and xattrs', () => {
    const { fs } = fresh();
    fs.writeFile('/f', 'x');
    fs.chmod('/f', 0o4755);
    fs.chown('/f', 1000, -1);
    fs.utimens('/f', [1, 2], [3, 4]);
    expect(fs.stat('/f')).toMatchObject({ mode: 0o104755, uid: 1000, gid: 0, atime: [1, 2], mtime: [3, 4] });
    fs.setxattr('/f', 'user.a', Buffer.from('1'));
    expect(code(() => fs.setxattr('/f', 'user.a', Buffer.from('2'), XATTR_CREATE))).toBe('EEXIST');
    expect(code(() => fs.setxattr('/f', 'user.b', Buffer.from('2'), XATTR_REPLACE))).toBe('ENODATA');
    expect(text(fs.getxattr('/f', 'user.a'))).toBe('1');
    expect(fs.listxattr('/f').map(text)).toEqual(['user.a']);
    fs.removexattr('/f', 'user.a');
    expect(code(() => fs.getxattr('/f', 'user.a'))).toBe('ENODATA');
    expect(code(() => fs.removexattr('/f', 'user.a'))).toBe('ENODATA');
    expect(fs.listxattr('/f')).toEqual([]);
    expect(code(() => fs.setxattr('/f', 'system.posix_acl_access', Buffer.from([2, 0, 0, 0])))).toBe('ENOTSUP');
    // follow = false acts on a symlink itself, as lsetxattr and llistxattr do
    fs.setxattr('/f', 'user.t', Buffer.from('target'));
    fs.symlink('f', '/l');
    fs.setxattr('/l', 'trusted.own', Buffer.from('link'), 0, false);
    expect(fs.listxattr('/l').map(text)).toEqual(['user.t']);
    expect(fs.listxattr('/l', false).map(text)).toEqual(['trusted.own']);
    expect(text(fs.getxattr('/l', 'trusted.own', false))).toBe('link');
    fs.removexattr('/l', 'trusted.own', false);
    fs.symlink('/nowhere', '/dangling');
    expect(fs.listxattr('/dangling', false)).toEqual([]);
    expect(code(() => fs.listxattr('/dangling'))).toBe('ENOENT');
  });

  it('changes mtime and ctime when a write or truncate happens, before the buffer commits', () => {
    const { fs } = fresh();
    fs.writeFile('/f', 'abc');
    fs.utimens('/f', [1, 0], [1, 0]);
    const before = fs.stat('/f').ctime;
    const fh = fs.open('/f', O_RDWR);
    expect(fs.fstat(fh).mtime).toEqual([1, 0]);
    fs.ftruncate(fh, 1);
    const truncated = fs.fstat(fh);
    expect(truncated.mtime).not.toEqual([1, 0]);
    expect(notBefore(truncated.ctime, before)).toBe(true);
    expect(fs.stat('/f').mtime).toEqual(truncated.mtime);
    fs.release(fh);
    expect(notBefore(fs.stat('/f').mtime, truncated.mtime)).toBe(true);
  });

  it('keeps times set while a written file is still open (cp -p, tar)', () => {
    const { fs } = fresh();
    const fh = fs.open('/copy', O_CREAT | O_WRONLY);
    fs.write(fh, Buffer.from('data'), 0);
    fs.utimens('/copy', [1_000_000, 1], [2_000_000, 2]);
    fs.release(fh);
    expect(fs.stat('/copy')).toMatchObject({ size: 4, atime: [1_000_000, 1], mtime: [2_000_000, 2] });
  });

  it('makes special nodes from mode bits', () => {
    const { fs } = fresh();
    expect(fs.mknod('/fifo', 0o010644).type).toBe('fifo');
    expect(fs.mknod('/dev', 0o020600, 0x0501)).toMatchObject({ type: 'chardev', rdev: 0x0501 });
    expect(code(() => fs.mknod('/x', 0o040755))).toBe('EINVAL');
  });

  it('pages readdir with offsets', () => {
    const { fs } = fresh();
    for (const n of ['c', 'a', 'b', 'd']) fs.writeFile(`/${n}`, '');
    expect(fs.readdir('/', 1, 2).map((e) => text(e.name))).toEqual(['b', 'c']);
    expect(fs.readdir('/', 3).map((e) => text(e.name))).toEqual(['d']);
  });

  it('attributes every op to its actor', () => {
    const { fs, store } = fresh();
    fs.as({ kind: 'exec', id: 'e1', command: 'touch a' }).writeFile('/a', '');
    fs.as({ kind: 'rpc', id: 'caller-7' }).mkdir('/b');
    expect([...store.log.scan()].map((s) => s.op.actor.id)).toEqual(['e1', 'e1', 'caller-7']);
  });

  it('reports statfs', () => {
    const { fs } = fresh();
    expect(fs.statfs()).toMatchObject({ bsize: 4096, namemax: 255 });
  });

  it('gives the same canonical tree after a rebuild', () => {
    const { fs, store } = fresh();
    fs.mkdir('/d');
    fs.writeFile('/d/f', 'x');
    fs.link('/d/f', '/g');
    fs.symlink('d', '/s');
    const before = canonicalTree(fs);
    store.rebuild();
    expect(canonicalTree(fs)).toEqual(before);
  });
});
