// Workspace: @cloudflare/shell's Workspace API (same methods, arguments, results, errors and
// limits) over a ledgerfs store, so every change is ops in the log with an actor, and the
// workspace syncs, has history, and is the same files a wsd mount shows. Calls are synchronous
// underneath, each in one transaction (all of it or none of it), answered as promises like
// shell's. Runs in Node and in a Durable Object: this module imports nothing Node-only.
import { channel } from 'node:diagnostics_channel';
import picomatch from 'picomatch';
import {
  DoSqlite, PrefixedSql, R2Chunks, SYMLINK_HOPS_MAX, WORKSPACE_DIFF_LINES_MAX, WORKSPACE_LIST_COUNT_MAX,
  WORKSPACE_MKDIR_DEPTH_MAX, WORKSPACE_READDIR_DEFAULT_COUNT, WORKSPACE_STREAM_BYTES_MAX, WORKSPACE_STREAM_PIECE_BYTES,
  WORKSPACE_SYMLINK_TARGET_CHARS_MAX, WORKSPACE_WALK_COUNT_MAX, tsMs, type Actor, type Bucket, type DoStorage, type NodeType,
} from '../log/index.ts';
import { FsError } from './errors.ts';
import { FileSystem } from './filesystem.ts';
import { openHistory } from './history.ts';
import { resolvePosition } from './positions.ts';
import { O_APPEND, O_WRONLY } from './open-flags.ts';
import type { Attr, DirEntry } from './reader.ts';
import { Store } from './store.ts';
import { unifiedDiff } from './unified-diff.ts';
import { blamePath, changesBetween, nodeHistory, type BlameLine, type Change } from './workspace-history.ts';
import { baseName, byUtf8, globBase, isWithin, joinPath, normalizePath, parentOf } from './workspace-paths.ts';

export type EntryType = 'file' | 'directory' | 'symlink';

export interface FileInfo {
  path: string;
  name: string;
  type: EntryType;
  mimeType: string;
  size: number;
  createdAt: number;
  updatedAt: number;
  target?: string;
}

export type FileStat = FileInfo;

export interface WorkspaceChangeEvent {
  type: 'create' | 'update' | 'delete';
  path: string;
  entryType: EntryType;
}

/** A Durable Object's `ctx.storage.sql` (detected as shell detects it: it has `databaseSize`). */
interface SqlStorageLike {
  exec(query: string, ...bindings: unknown[]): unknown;
  readonly databaseSize: number;
}

export interface WorkspaceOptions {
  /**
   * A ledgerfs Store; a Durable Object's `ctx.storage` (or `ctx.storage.sql` with `storage`
   * beside it: ledgerfs commits through `transactionSync`, which only `storage` has). The Node
   * entry (index.ts) also takes a database file path.
   */
  sql?: Store | DoStorage | SqlStorageLike;
  /** A Durable Object's `ctx.storage`, when `sql` is its `ctx.storage.sql` (or instead of `sql`). */
  storage?: DoStorage;
  /** Several workspaces in one database (default "default": the store's own tables). */
  namespace?: string;
  /** An R2 bucket for chunk bytes (Durable Object storage only; see log/r2-chunks.ts). */
  r2?: Bucket;
  /** Shown in change events on the diagnostics channel. */
  name?: string | (() => string | undefined);
  onChange?: (event: WorkspaceChangeEvent) => void;
  /** Who the ops are attributed to (default `{kind: 'api'}`); `as(actor)` changes it per call. */
  actor?: Actor;
}

/** Change events of every Workspace, `{...event, namespace, name, actor}`; published only while subscribed. */
export const WORKSPACE_CHANNEL = 'ledgerfs:workspace';
const changeChannel = channel(WORKSPACE_CHANNEL);

const NAMESPACE = /^[a-zA-Z][a-zA-Z0-9_]*$/;
const DEFAULT_NAMESPACE = 'default';
/** The extended attribute holding the mime type a writer gave; absent means text/plain, as in shell. */
const MIME_XATTR = 'user.mime_type';
/** Its bytes, encoded once: every stat and listing entry asks for it. */
const MIME_XATTR_BYTES = new TextEncoder().encode(MIME_XATTR);
const DEFAULT_MIME = 'text/plain';
const BYTES_MIME = 'application/octet-stream';

/** What a Workspace works on: a store (null for a past state), its filesystem, its R2 tier. */
export interface WorkspaceHome {
  store: Store | null;
  fs: FileSystem;
  r2: R2Chunks | null;
  bucket: Bucket | null;
}

/** One home per (source, namespace), so two Workspaces on one database share one Store, as shell's share tables. */
const homes = new WeakMap<object, Map<string, WorkspaceHome>>();

const isStore = (source: unknown): source is Store => source instanceof Store;
const isStorage = (source: unknown): source is DoStorage => typeof source === 'object' && source !== null && 'transactionSync' in source && 'sql' in source;
const isSqlStorage = (source: unknown): source is SqlStorageLike => typeof source === 'object' && source !== null && 'databaseSize' in source;

function storeOf(options: WorkspaceOptions): { key: object; open: () => Store } {
  const { sql, storage } = options;
  if (isStore(sql)) return { key: sql, open: () => sql };
  const given = isStorage(sql) ? sql : storage;
  if (given && isStorage(given) && (sql === undefined || sql === given || sql === given.sql)) {
    return { key: given, open: () => new Store(new DoSqlite(given)) };
  }
  if (isSqlStorage(sql)) {
    throw new FsError('EINVAL', 'Workspace', undefined, 'ledgerfs commits through ctx.storage.transactionSync: pass { sql: ctx.storage.sql, storage: ctx.storage } or { storage: ctx.storage }');
  }
  throw new FsError('EINVAL', 'Workspace', undefined, 'sql wants a ledgerfs Store or a Durable Object\'s ctx.storage (a file path on Node)');
}

function openHome(options: WorkspaceOptions, namespace: string): WorkspaceHome {
  const { key, open } = storeOf(options);
  const byNamespace = homes.get(key) ?? new Map<string, WorkspaceHome>();
  homes.set(key, byNamespace);
  const bucket = options.r2 ?? null;
  const known = byNamespace.get(namespace);
  if (known) {
    if (known.bucket !== bucket) throw new FsError('EINVAL', 'Workspace', undefined, `workspace "${namespace}" on this database was opened ${known.bucket ? 'with' : 'without'} an R2 bucket: every Workspace on it must agree`);
    return known;
  }
  const base = open();
  // Another namespace is another replica in the same database: its tables under ns_<name>__.
  const store = namespace === DEFAULT_NAMESPACE ? base : new Store(new PrefixedSql(base.sql, `ns_${namespace}__`, false));
  if (bucket && !(isStorage(key))) throw new FsError('EINVAL', 'Workspace', undefined, 'r2 keeps chunk bytes of a Durable Object\'s storage: pass storage too');
  const r2 = bucket ? new R2Chunks(bucket, store.chunks) : null;
  if (r2) {
    store.onCommit(() => void r2.offload());
    void r2.offload();
  }
  const home = { store, fs: FileSystem.live(store), r2, bucket };
  byNamespace.set(namespace, home);
  return home;
}

/** Collects a call's change events, only when someone listens. */
class Changes {
  readonly list: WorkspaceChangeEvent[] | null;

  constructor(listening: boolean) {
    this.list = listening ? [] : null;
  }

  add(type: WorkspaceChangeEvent['type'], path: string, entryType: EntryType): void {
    this.list?.push({ type, path, entryType });
  }
}

const decoder = new TextDecoder();
/**
 * Mime types as text, by the value the row cache holds (which nobody changes: a write replaces
 * it): every stat and listing entry reports one, and decoding it each time cost more than the stat.
 */
const mimeTexts = new WeakMap<Uint8Array, string>();
const encoder = new TextEncoder();
const entryType = (type: NodeType): EntryType => (type === 'dir' ? 'directory' : type === 'symlink' ? 'symlink' : 'file');
const ms = ([sec, nsec]: [number, number]) => sec * 1000 + Math.floor(nsec / 1e6);
const TYPE_ORDER: Record<EntryType, number> = { directory: 0, file: 1, symlink: 2 };

function count(value: unknown, fallback: number, what: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) throw new FsError('EINVAL', 'readDir', undefined, `${what} is an integer from 0 to ${max}`);
  return value as number;
}

export class Workspace {
  readonly namespace: string;
  /** Who this instance's ops are attributed to. */
  readonly actor: Actor;
  /** Its store, filesystem and R2 tier (the Durable Object serves RPC from the same ones). */
  readonly home: WorkspaceHome;
  private readonly nameOf: string | (() => string | undefined) | undefined;
  private readonly onChange: ((event: WorkspaceChangeEvent) => void) | undefined;

  constructor(options: WorkspaceOptions, home?: WorkspaceHome) {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE;
    if (!NAMESPACE.test(namespace)) {
      throw new FsError('EINVAL', 'Workspace', undefined, `invalid workspace namespace "${namespace}": must start with a letter and contain only alphanumeric characters or underscores`);
    }
    this.namespace = namespace;
    this.home = home ?? openHome(options, namespace);
    this.home.fs.reader.lookupXattr = MIME_XATTR_BYTES;
    this.actor = options.actor ?? { kind: 'api' };
    this.nameOf = options.name;
    this.onChange = options.onChange;
  }

  /** The store under this workspace (null for a past state from `at`). */
  get store(): Store | null {
    return this.home.store;
  }

  get name(): string | undefined {
    return typeof this.nameOf === 'function' ? this.nameOf() : this.nameOf;
  }

  /** The same workspace with its ops attributed to `actor`. */
  as(actor: Actor): this {
    const view = Object.create(this) as this;
    Object.defineProperty(view, 'actor', { value: actor });
    return view;
  }

  /**
   * Runs a call in one transaction (a throw undoes all of it), fetching R2 chunks it meets and
   * running it again; commits it before answering (a store with group commit, as wsd's, would
   * otherwise answer first); then tells listeners what changed.
   */
  protected async run<T>(call: (fs: FileSystem, changes: Changes) => T): Promise<T> {
    const { store, r2 } = this.home;
    const fs = this.home.fs.as(this.actor);
    const attempt = () => {
      const changes = new Changes(this.onChange !== undefined || changeChannel.hasSubscribers);
      const result = store ? store.transaction(() => call(fs, changes)) : call(fs, changes);
      return { result, changes };
    };
    const { result, changes } = r2 ? await r2.withChunks(attempt) : attempt();
    store?.sync();
    for (const event of changes.list ?? []) {
      this.onChange?.(event);
      if (changeChannel.hasSubscribers) changeChannel.publish({ ...event, namespace: this.namespace, name: this.name, actor: this.actor });
    }
    return result;
  }

  /**
   * Runs a call that changes nothing, outside a transaction: a transaction's BEGIN and COMMIT
   * would cost more than a stat, and nothing else runs on this thread between its statements.
   */
  protected async read<T>(call: (fs: FileSystem) => T): Promise<T> {
    const fs = this.home.fs;
    return this.home.r2 ? await this.home.r2.withChunks(() => call(fs)) : call(fs);
  }

  // ---- lookups (shell looks paths up whole: only the last component's symlinks are followed) ----

  /** The entry at a normalized path, not following a final symlink; null when there is none. */
  private entry(fs: FileSystem, path: string): Attr | null {
    try {
      return fs.lstat(path);
    } catch (error) {
      if (error instanceof FsError && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return null;
      throw error;
    }
  }

  /** Follows symlinks at `path` itself, at most SYMLINK_HOPS_MAX of them: where it ends, and what is there (null: nothing). */
  private resolve(fs: FileSystem, path: string, syscall: string): { at: string; attr: Attr | null } {
    for (let hops = 0; ; hops++) {
      const attr = this.entry(fs, path);
      if (attr?.type !== 'symlink') return { at: path, attr };
      if (hops === SYMLINK_HOPS_MAX) throw new FsError('ELOOP', syscall, path, `more than ${SYMLINK_HOPS_MAX} symbolic links`);
      const target = decoder.decode(fs.readlink(path));
      path = normalizePath(target.startsWith('/') ? target : `${parentOf(path)}/${target}`, syscall);
    }
  }

  private mimeType(fs: FileSystem, attr: Attr): string {
    const value = fs.reader.xattr(attr.ino, MIME_XATTR_BYTES);
    if (!value) return DEFAULT_MIME;
    let text = mimeTexts.get(value);
    if (text === undefined) mimeTexts.set(value, (text = decoder.decode(value)));
    return text;
  }

  private info(fs: FileSystem, path: string, attr: Attr, withTarget: boolean): FileInfo {
    const type = entryType(attr.type);
    const info: FileInfo = {
      path, name: baseName(path), type, mimeType: this.mimeType(fs, attr), size: type === 'file' ? attr.size : 0,
      createdAt: ms(attr.birthtime), updatedAt: ms(attr.mtime),
    };
    if (withTarget && type === 'symlink') info.target = decoder.decode(fs.readlink(attr.ino));
    return info;
  }

  /** Creates the missing directories of `dir`, top down (shell's ensureParentDir). */
  private ensureDir(fs: FileSystem, dir: string, changes: Changes, syscall: string): void {
    const missing: string[] = [];
    for (let at = dir; at !== '' && at !== '/'; at = parentOf(at)) {
      const attr = this.entry(fs, at);
      if (attr) {
        if (attr.type !== 'dir') throw new FsError('ENOTDIR', syscall, at);
        break;
      }
      missing.push(at);
    }
    for (const at of missing.reverse()) {
      fs.mkdir(at);
      changes.add('create', at, 'directory');
    }
  }

  // ---- symlinks and metadata ----

  symlink(target: string, linkPath: string): Promise<void> {
    return this.run((fs, changes) => this.symlinkAt(fs, changes, target, normalizePath(linkPath, 'symlink')));
  }

  private symlinkAt(fs: FileSystem, changes: Changes, target: unknown, path: string): void {
    if (typeof target !== 'string' || target.trim() === '') throw new FsError('EINVAL', 'symlink', path, 'the target must not be empty');
    if (target.length > WORKSPACE_SYMLINK_TARGET_CHARS_MAX) throw new FsError('ENAMETOOLONG', 'symlink', path, `a target is at most ${WORKSPACE_SYMLINK_TARGET_CHARS_MAX} characters`);
    if (path === '/') throw new FsError('EPERM', 'symlink', path, 'cannot create a symlink at the root');
    this.ensureDir(fs, parentOf(path), changes, 'symlink');
    if (this.entry(fs, path)) throw new FsError('EEXIST', 'symlink', path);
    fs.symlink(target, path);
    changes.add('create', path, 'symlink');
  }

  readlink(path: string): Promise<string> {
    return this.read((fs) => {
      const at = normalizePath(path, 'readlink');
      const attr = this.entry(fs, at);
      if (!attr) throw new FsError('ENOENT', 'readlink', at);
      if (attr.type !== 'symlink') throw new FsError('EINVAL', 'readlink', at, 'not a symlink');
      return decoder.decode(fs.readlink(at));
    });
  }

  lstat(path: string): Promise<FileStat | null> {
    return this.read((fs) => {
      const at = normalizePath(path, 'lstat');
      const attr = this.entry(fs, at);
      return attr && this.info(fs, at, attr, true);
    });
  }

  stat(path: string): Promise<FileStat | null> {
    return this.read((fs) => {
      const { at, attr } = this.resolve(fs, normalizePath(path, 'stat'), 'stat');
      return attr && this.info(fs, at, attr, true);
    });
  }

  exists(path: string): Promise<boolean> {
    return this.read((fs) => this.entry(fs, normalizePath(path, 'exists')) !== null);
  }

  fileExists(path: string): Promise<boolean> {
    return this.read((fs) => this.resolve(fs, normalizePath(path, 'fileExists'), 'fileExists').attr?.type === 'file');
  }

  // ---- file content ----

  /** The bytes of the file at `path` (following symlinks), null when there is none. */
  private readBytes(fs: FileSystem, path: unknown, syscall: string): Uint8Array | null {
    const { at, attr } = this.resolve(fs, normalizePath(path, syscall), syscall);
    if (!attr) return null;
    if (attr.type === 'dir') throw new FsError('EISDIR', syscall, at);
    return fs.readFile(attr.ino);
  }

  readFile(path: string): Promise<string | null> {
    return this.read((fs) => {
      const bytes = this.readBytes(fs, path, 'readFile');
      return bytes && decoder.decode(bytes);
    });
  }

  readFileBytes(path: string): Promise<Uint8Array | null> {
    return this.read((fs) => this.readBytes(fs, path, 'readFileBytes'));
  }

  private writeBytes(fs: FileSystem, changes: Changes, path: unknown, bytes: Uint8Array, mimeType: unknown, syscall: string): void {
    if (typeof mimeType !== 'string') throw new FsError('EINVAL', syscall, undefined, 'mimeType is a string');
    const { at, attr: found } = this.resolve(fs, normalizePath(path, syscall), syscall);
    if (at === '/') throw new FsError('EISDIR', syscall, at, 'cannot write to the root directory');
    // what is at `at` can only be found once its parents exist
    const existing = found ?? (this.ensureDir(fs, parentOf(at), changes, syscall), null);
    // shell stores the content in the directory's row here; a directory has no content
    if (existing?.type === 'dir') throw new FsError('EISDIR', syscall, at);
    fs.writeFile(at, bytes);
    const attr = fs.lstat(at);
    if (this.mimeType(fs, attr) !== mimeType) fs.setxattr(at, MIME_XATTR, encoder.encode(mimeType));
    changes.add(existing ? 'update' : 'create', at, 'file');
  }

  writeFile(path: string, content: string, mimeType = DEFAULT_MIME): Promise<void> {
    if (typeof content !== 'string') return Promise.reject(new FsError('EINVAL', 'writeFile', undefined, 'content is a string (writeFileBytes takes bytes)'));
    return this.run((fs, changes) => this.writeBytes(fs, changes, path, encoder.encode(content), mimeType, 'writeFile'));
  }

  writeFileBytes(path: string, data: Uint8Array | ArrayBuffer, mimeType = BYTES_MIME): Promise<void> {
    const bytes = data instanceof Uint8Array ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : null;
    if (!bytes) return Promise.reject(new FsError('EINVAL', 'writeFileBytes', undefined, 'data is a Uint8Array or an ArrayBuffer'));
    return this.run((fs, changes) => this.writeBytes(fs, changes, path, bytes, mimeType, 'writeFileBytes'));
  }

  appendFile(path: string, content: string, mimeType = DEFAULT_MIME): Promise<void> {
    if (typeof content !== 'string') return Promise.reject(new FsError('EINVAL', 'appendFile', undefined, 'content is a string'));
    return this.run((fs, changes) => {
      const { at, attr } = this.resolve(fs, normalizePath(path, 'appendFile'), 'appendFile');
      if (!attr) return this.writeBytes(fs, changes, path, encoder.encode(content), mimeType, 'appendFile');
      if (attr.type === 'dir') throw new FsError('EISDIR', 'appendFile', at);
      const fh = fs.open(at, O_WRONLY | O_APPEND);
      try {
        fs.write(fh, encoder.encode(content), attr.size);
        fs.fsync(fh); // committed now even when the mount holds the file open
      } finally {
        fs.release(fh);
      }
      changes.add('update', at, 'file');
    });
  }

  /**
   * The file as a stream read a piece (WORKSPACE_STREAM_PIECE_BYTES) at a time, each piece as
   * the file is when it is read; null when there is no file.
   */
  async readFileStream(path: string): Promise<ReadableStream<Uint8Array> | null> {
    const at = await this.read((fs) => {
      const { at: resolved, attr } = this.resolve(fs, normalizePath(path, 'readFileStream'), 'readFileStream');
      if (attr?.type === 'dir') throw new FsError('EISDIR', 'readFileStream', resolved);
      return attr && resolved;
    });
    if (at === null) return null;
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const piece = await this.read((fs) => {
          const fh = fs.open(at, 0);
          try {
            return fs.read(fh, offset, WORKSPACE_STREAM_PIECE_BYTES);
          } finally {
            fs.release(fh);
          }
        });
        offset += piece.length;
        if (piece.length > 0) controller.enqueue(piece);
        if (piece.length < WORKSPACE_STREAM_PIECE_BYTES) controller.close();
      },
    }, { highWaterMark: 1 });
  }

  /** Reads the stream to its end (at most WORKSPACE_STREAM_BYTES_MAX, else EFBIG), then writes it as one op. */
  async writeFileStream(path: string, stream: ReadableStream<Uint8Array>, mimeType = BYTES_MIME): Promise<void> {
    const reader = stream.getReader();
    const pieces: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > WORKSPACE_STREAM_BYTES_MAX) {
        await reader.cancel();
        throw new FsError('EFBIG', 'writeFileStream', undefined, `a stream is at most ${WORKSPACE_STREAM_BYTES_MAX} bytes`);
      }
      pieces.push(value);
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const piece of pieces) {
      bytes.set(piece, offset);
      offset += piece.byteLength;
    }
    await this.writeFileBytes(path, bytes, mimeType);
  }

  deleteFile(path: string): Promise<boolean> {
    return this.run((fs, changes) => {
      const at = normalizePath(path, 'deleteFile');
      const attr = this.entry(fs, at);
      if (!attr) return false;
      if (attr.type === 'dir') throw new FsError('EISDIR', 'deleteFile', at, 'use rm() for a directory');
      fs.unlink(at);
      changes.add('delete', at, entryType(attr.type));
      return true;
    });
  }

  // ---- directories ----

  /** Entries of a directory, directories first, then files, then symlinks, each by name; [] when it is not a directory. */
  readDir(dir = '/', options?: { limit?: number; offset?: number }): Promise<FileInfo[]> {
    return this.read((fs) => {
      const at = normalizePath(dir, 'readDir');
      const limit = count(options?.limit, WORKSPACE_READDIR_DEFAULT_COUNT, 'limit', WORKSPACE_LIST_COUNT_MAX);
      const offset = count(options?.offset, 0, 'offset', Number.MAX_SAFE_INTEGER);
      const attr = this.entry(fs, at);
      if (attr?.type !== 'dir') return [];
      const rows = fs.reader.listing(attr.ino, MIME_XATTR_BYTES);
      // Derived names: sorted by what each entry carries, then only the page asked for is stat'ed.
      if (!rows) return this.children(fs, at).slice(offset, offset + limit).map(({ name, ino }) => this.info(fs, joinPath(at, decoder.decode(name)), fs.lstat(ino), false));
      const prefix = at === '/' ? '/' : `${at}/`;
      // the rows are by name: a stable sort by type keeps that order within each type
      return rows.sort((a, b) => TYPE_ORDER[entryType(a[1])] - TYPE_ORDER[entryType(b[1])]).slice(offset, offset + limit).map(([name, type, born, mtimeS, mtimeNs, size, mime]) => ({
        path: prefix + name, name, type: entryType(type), mimeType: mime ?? DEFAULT_MIME, size: type === 'file' ? size ?? 0 : 0,
        createdAt: born ? tsMs(born) : 0, updatedAt: ms([mtimeS ?? 0, mtimeNs ?? 0]),
      }));
    });
  }

  /** A directory's entries in readDir's order (directories, files, symlinks, each by name bytes). */
  private children(fs: FileSystem, dir: string): DirEntry[] {
    const attr = this.entry(fs, dir);
    if (attr?.type !== 'dir') return [];
    // readdir gives them by name: a stable sort by type keeps that order within each type
    return fs.readdir(attr.ino).sort((a, b) => TYPE_ORDER[entryType(a.type)] - TYPE_ORDER[entryType(b.type)]);
  }

  mkdir(path: string, options?: { recursive?: boolean }): Promise<void> {
    return this.run((fs, changes) => this.mkdirAt(fs, changes, normalizePath(path, 'mkdir'), options?.recursive === true, 0));
  }

  private mkdirAt(fs: FileSystem, changes: Changes, path: string, recursive: boolean, depth: number): void {
    if (depth > WORKSPACE_MKDIR_DEPTH_MAX) throw new FsError('ELOOP', 'mkdir', path, `a recursive mkdir creates at most ${WORKSPACE_MKDIR_DEPTH_MAX} levels`);
    if (path === '/') return;
    const existing = this.entry(fs, path);
    if (existing) {
      if (existing.type === 'dir' && recursive) return;
      throw new FsError('EEXIST', 'mkdir', path);
    }
    const parent = parentOf(path);
    const above = this.entry(fs, parent);
    if (!above) {
      if (!recursive) throw new FsError('ENOENT', 'mkdir', parent, 'parent directory not found');
      this.mkdirAt(fs, changes, parent, true, depth + 1);
    } else if (above.type !== 'dir') {
      throw new FsError('ENOTDIR', 'mkdir', parent);
    }
    fs.mkdir(path);
    changes.add('create', path, 'directory');
  }

  rm(path: string, options?: { recursive?: boolean; force?: boolean }): Promise<void> {
    return this.run((fs, changes) => this.rmAt(fs, changes, normalizePath(path, 'rm'), options?.recursive === true, options?.force === true));
  }

  private rmAt(fs: FileSystem, changes: Changes, path: string, recursive: boolean, force: boolean): void {
    if (path === '/') throw new FsError('EPERM', 'rm', path, 'cannot remove the root directory');
    const attr = this.entry(fs, path);
    if (!attr) {
      if (force) return;
      throw new FsError('ENOENT', 'rm', path);
    }
    if (attr.type === 'dir' && !recursive && !fs.reader.isEmpty(attr.ino)) throw new FsError('ENOTEMPTY', 'rm', path);
    const remove = (at: string, type: Attr['type']): void => {
      if (type !== 'dir') return fs.unlink(at);
      for (const entry of fs.readdir(at)) remove(joinPath(at, decoder.decode(entry.name)), entry.type);
      fs.rmdir(at);
    };
    remove(path, attr.type);
    // like shell, one event for the path, none for what was under it
    changes.add('delete', path, entryType(attr.type));
  }

  // ---- copy and move ----

  cp(src: string, dest: string, options?: { recursive?: boolean }): Promise<void> {
    return this.run((fs, changes) => this.cpAt(fs, changes, normalizePath(src, 'cp'), normalizePath(dest, 'cp'), options?.recursive === true));
  }

  private cpAt(fs: FileSystem, changes: Changes, src: string, dest: string, recursive: boolean): void {
    const attr = this.entry(fs, src);
    if (!attr) throw new FsError('ENOENT', 'cp', src);
    if (attr.type === 'symlink') return this.symlinkAt(fs, changes, decoder.decode(fs.readlink(src)), dest);
    if (attr.type === 'dir') {
      if (!recursive) throw new FsError('EISDIR', 'cp', src, 'copying a directory wants {recursive: true}');
      if (isWithin(dest, src)) throw new FsError('EINVAL', 'cp', dest, 'cannot copy a directory into itself');
      this.mkdirAt(fs, changes, dest, true, 0);
      for (const { name } of this.children(fs, src)) {
        const child = decoder.decode(name);
        this.cpAt(fs, changes, joinPath(src, child), normalizePath(`${dest}/${child}`, 'cp'), true);
      }
      return;
    }
    this.writeBytes(fs, changes, dest, fs.readFile(src), this.mimeType(fs, attr), 'cp');
  }

  /**
   * Moves a file, symlink or directory. A directory moved to a new name is one move op (its
   * files keep their identity and history); onto an existing directory it merges, as shell's.
   */
  mv(src: string, dest: string, options?: { recursive?: boolean }): Promise<void> {
    return this.run((fs, changes) => {
      const from = normalizePath(src, 'mv');
      const to = normalizePath(dest, 'mv');
      const attr = this.entry(fs, from);
      if (!attr) throw new FsError('ENOENT', 'mv', from);
      if (from === to) return;
      const type = entryType(attr.type);
      if (type === 'directory') {
        if (options?.recursive === false) throw new FsError('EISDIR', 'mv', from, 'moving a directory wants recursive');
        if (isWithin(to, from)) throw new FsError('EINVAL', 'mv', to, 'cannot move a directory into itself');
        if (this.entry(fs, to)) {
          this.cpAt(fs, changes, from, to, true);
          return this.rmAt(fs, changes, from, true, true);
        }
        this.ensureDir(fs, parentOf(to), changes, 'mv');
        fs.rename(from, to);
        changes.add('create', to, type);
        changes.add('delete', from, type);
        return;
      }
      this.ensureDir(fs, parentOf(to), changes, 'mv');
      const existing = this.entry(fs, to);
      if (existing?.type === 'dir') throw new FsError('EISDIR', 'mv', to, 'cannot overwrite a directory');
      if (existing) changes.add('delete', to, entryType(existing.type));
      fs.rename(from, to);
      changes.add('delete', from, type);
      changes.add('create', to, type);
    });
  }

  // ---- search and diff ----

  /** Paths matching a glob (picomatch: `**`, `*`, `?`, `[...]`, braces; dotfiles too), by path; never the root itself. */
  glob(pattern: string): Promise<FileInfo[]> {
    return this.read((fs) => {
      const normalized = normalizePath(pattern, 'glob');
      const { dir, exact } = globBase(normalized);
      if (exact) {
        const attr = this.entry(fs, dir);
        return attr ? [this.info(fs, dir, attr, true)] : [];
      }
      // Relative: picomatch lets `**/` match no directory only at the start of a relative pattern.
      // A final `/**` means what is under the directory, not the directory too (as in shell).
      const relative = normalized.slice(1);
      const matches = picomatch(relative.endsWith('/**') ? `${relative}/*` : relative, { dot: true });
      const found: Array<{ path: string; attr: Attr }> = [];
      this.walk(fs, dir, false, (path, attr) => {
        if (!matches(path.slice(1))) return;
        if (found.length === WORKSPACE_LIST_COUNT_MAX) throw new FsError('E2BIG', 'glob', normalized, `more than ${WORKSPACE_LIST_COUNT_MAX} matches: narrow the pattern`);
        found.push({ path, attr });
      });
      found.sort((a, b) => byUtf8(a.path, b.path));
      return found.map(({ path, attr }) => this.info(fs, path, attr, true));
    });
  }

  /**
   * Visits every entry under `dir` (and `dir` itself if `self`), not following symlinks, at
   * most WORKSPACE_WALK_COUNT_MAX of them.
   */
  private walk(fs: FileSystem, dir: string, self: boolean, visit: (path: string, attr: Attr) => void): void {
    const top = this.entry(fs, dir);
    if (!top) return;
    if (self) visit(dir, top);
    if (top.type !== 'dir') return;
    let seen = 0;
    const stack = [dir];
    while (stack.length > 0) {
      const at = stack.pop()!;
      for (const entry of fs.readdir(at)) {
        if (++seen > WORKSPACE_WALK_COUNT_MAX) throw new FsError('E2BIG', 'walk', dir, `more than ${WORKSPACE_WALK_COUNT_MAX} entries under it`);
        const path = joinPath(at, decoder.decode(entry.name));
        visit(path, fs.lstat(entry.ino));
        if (entry.type === 'dir') stack.push(path);
      }
    }
  }

  private diffText(fs: FileSystem, path: string, syscall: string): string {
    const bytes = this.readBytes(fs, path, syscall);
    if (bytes === null) throw new FsError('ENOENT', syscall, normalizePath(path, syscall));
    return decoder.decode(bytes);
  }

  private static checkLines(a: string, b: string, syscall: string): void {
    if (a.split('\n').length > WORKSPACE_DIFF_LINES_MAX || b.split('\n').length > WORKSPACE_DIFF_LINES_MAX) {
      throw new FsError('EFBIG', syscall, undefined, `a diff takes at most ${WORKSPACE_DIFF_LINES_MAX} lines a side`);
    }
  }

  /** A unified diff of two files (shell's format). */
  diff(pathA: string, pathB: string): Promise<string> {
    return this.read((fs) => {
      const a = this.diffText(fs, pathA, 'diff');
      const b = this.diffText(fs, pathB, 'diff');
      Workspace.checkLines(a, b, 'diff');
      return unifiedDiff(a, b, normalizePath(pathA, 'diff'), normalizePath(pathB, 'diff'));
    });
  }

  /** A unified diff from a file to `content`. */
  diffContent(path: string, content: string): Promise<string> {
    return this.read((fs) => {
      const a = this.diffText(fs, path, 'diffContent');
      Workspace.checkLines(a, content, 'diffContent');
      const at = normalizePath(path, 'diffContent');
      return unifiedDiff(a, content, at, at);
    });
  }

  /** Counts over the whole tree; `r2FileCount` is 0: chunks, not files, move to R2 (see the object's stats). */
  getWorkspaceInfo(): Promise<{ fileCount: number; directoryCount: number; totalBytes: number; r2FileCount: number }> {
    return this.read((fs) => {
      const info = { fileCount: 0, directoryCount: 0, totalBytes: 0, r2FileCount: 0 };
      for (const { type, count: n, bytes } of fs.reader.totals()) {
        if (type === 'dir') info.directoryCount += n;
        else if (type !== 'symlink') {
          info.fileCount += n;
          info.totalBytes += bytes;
        }
      }
      return info;
    });
  }

  // ---- what the log adds ----

  /**
   * Replaces `oldString` with `newString` in a file, in one call: fails (EINVAL) when it is
   * missing, or found more than once without `replaceAll`. Returns the replacements made.
   */
  edit(path: string, oldString: string, newString: string, options?: { replaceAll?: boolean }): Promise<number> {
    return this.run((fs, changes) => {
      if (typeof oldString !== 'string' || oldString === '' || typeof newString !== 'string') throw new FsError('EINVAL', 'edit', undefined, 'oldString (not empty) and newString are strings');
      const bytes = this.readBytes(fs, path, 'edit');
      const at = normalizePath(path, 'edit');
      if (bytes === null) throw new FsError('ENOENT', 'edit', at);
      const text = decoder.decode(bytes);
      const found = text.split(oldString).length - 1;
      if (found === 0) throw new FsError('EINVAL', 'edit', at, 'oldString is not in the file');
      if (found > 1 && options?.replaceAll !== true) throw new FsError('EINVAL', 'edit', at, `oldString is in the file ${found} times: give more context or replaceAll`);
      const { attr } = this.resolve(fs, at, 'edit');
      this.writeBytes(fs, changes, at, encoder.encode(text.split(oldString).join(newString)), this.mimeType(fs, attr!), 'edit');
      return found;
    });
  }

  private live(syscall: string): Store {
    if (!this.home.store) throw new FsError('EROFS', syscall, undefined, 'a past state has no log of its own');
    return this.home.store;
  }

  /** The node at `path` now. */
  private node(fs: FileSystem, path: string, syscall: string): number {
    const { at, attr } = this.resolve(fs, normalizePath(path, syscall), syscall);
    if (!attr) throw new FsError('ENOENT', syscall, at);
    return attr.ino;
  }

  /** The ops that made and changed the file (or directory) at `path`, oldest first, with actor and time. */
  history(path: string): Promise<Change[]> {
    return this.read((fs) => nodeHistory(this.live('history'), this.node(fs, path, 'history')));
  }

  /** Who last changed each line of the file at `path`, and when. */
  blame(path: string): Promise<BlameLine[]> {
    return this.read((fs) => blamePath(this.live('blame'), this.resolve(fs, normalizePath(path, 'blame'), 'blame').at));
  }

  /** The ops after position `from` up to and including `to` (op ORIGIN:seq, epoch ms or a date; default now). */
  changes(from: string, to?: string): Promise<Change[]> {
    return this.read(() => {
      const store = this.live('changes');
      return changesBetween(store, resolvePosition(store, from).ts, to === undefined ? resolvePosition(store, String(Date.now())).ts : resolvePosition(store, to).ts);
    });
  }

  /**
   * A read-only Workspace of the tree at a past position (op ORIGIN:seq, epoch ms or a date):
   * its mutations fail with EROFS. close() drops the projection it was replayed into.
   */
  at(position: string): Promise<Workspace & { close(): void }> {
    return this.read(() => {
      const store = this.live('at');
      const view = openHistory(store, resolvePosition(store, position).ts);
      const past = new Workspace({ namespace: this.namespace, name: this.nameOf }, { store: null, fs: view.fs, r2: null, bucket: null });
      return Object.assign(past, { close: view.close });
    });
  }
}
