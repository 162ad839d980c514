// The libraries `bench api` compares, each through its public API the way its users call it:
// ledgerfs's FileSystem and Workspace, and @cloudflare/shell's Workspace on better-sqlite3; and
// the SQLite floor of ledgerfs's mutations (sqlite-floor.ts).
import { Workspace as ShellWorkspace } from '@cloudflare/shell';
import { basename, dirname } from 'node:path';
import { ROOT_ID } from '../log/index.ts';
import { FileSystem, openStore, Workspace, type Store } from '../index.ts';
import { shellSqlite } from './shell-sqlite.ts';
import { SqliteFloor } from './sqlite-floor.ts';

/** What a workload calls; every call is awaited, whether or not the library is synchronous. */
export interface Api {
  write(path: string, data: Uint8Array): unknown;
  stat(path: string): unknown;
  read(path: string): unknown;
  readdir(path: string): unknown;
  rename(from: string, to: string): unknown;
  remove(path: string): unknown;
  mkdir(path: string): unknown;
  mkdirRecursive(path: string): unknown;
  close(): void;
}

export const CONTENDERS = [
  'ledgerfs-fs-file', 'ledgerfs-fs-memory', 'ledgerfs-ws-file', 'ledgerfs-ws-memory', 'shell-file', 'shell-memory', 'floor-file', 'floor-memory',
] as const;
export type Contender = (typeof CONTENDERS)[number];

export const WORKLOADS = [
  'write', 'stat', 'read', 'readdir_x50', 'rename', 'delete', 'mkdir_10x10x10', 'mkdir_recursive_1000', 'write_64m', 'read_64m', 'write_1000x64k', 'reopen_stat',
] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const isFile = (contender: Contender) => contender.endsWith('-file');

/** The floor has mutations only: ledgerfs answers stat and small reads from memory, with no SQL. */
const FLOOR_WORKLOADS: readonly WorkloadName[] = ['write', 'rename', 'delete', 'mkdir_10x10x10', 'mkdir_recursive_1000'];

export const runs = (contender: Contender, workload: WorkloadName) =>
  (workload !== 'reopen_stat' || isFile(contender)) && (!contender.startsWith('floor') || FLOOR_WORKLOADS.includes(workload));

function fsApi(store: Store): Api {
  const fs = FileSystem.live(store);
  return {
    write: (p, d) => fs.writeFile(p, d),
    stat: (p) => fs.stat(p),
    read: (p) => fs.readFile(p),
    readdir: (p) => fs.readdir(p),
    rename: (a, b) => fs.rename(a, b),
    remove: (p) => fs.unlink(p),
    mkdir: (p) => fs.mkdir(p),
    // FileSystem has POSIX mkdir only: a caller makes each missing parent
    mkdirRecursive: (p) => {
      let at = '';
      for (const part of p.split('/').slice(1)) {
        at += `/${part}`;
        if (!fs.exists(at)) fs.mkdir(at);
      }
    },
    close: () => store.close(),
  };
}

/** The Workspace surface both Workspaces share. */
function workspaceApi(ws: Workspace | ShellWorkspace, close: () => void): Api {
  return {
    write: (p, d) => ws.writeFileBytes(p, d),
    stat: (p) => ws.stat(p),
    read: (p) => ws.readFileBytes(p),
    readdir: (p) => ws.readDir(p, { limit: 1000 }),
    rename: (a, b) => ws.mv(a, b),
    remove: (p) => ws.deleteFile(p),
    mkdir: (p) => ws.mkdir(p),
    mkdirRecursive: (p) => ws.mkdir(p, { recursive: true }),
    close,
  };
}

/** The floor's statements for each call, on paths kept in a map (ledgerfs's row cache does the same). */
function floorApi(floor: SqliteFloor): Api {
  const dirs = new Map<string, number>([['/', ROOT_ID]]);
  const files = new Map<string, number>();
  const unsupported = () => {
    throw new Error('the SQLite floor has mutations only');
  };
  const mkdir = (p: string) => void dirs.set(p, floor.mkdir(dirs.get(dirname(p))!, basename(p)));
  return {
    write: (p, d) => void files.set(p, floor.writeFile(dirs.get(dirname(p))!, basename(p), d.length)),
    rename: (a, b) => {
      floor.rename(files.get(a)!, dirs.get(dirname(a))!, basename(b));
      files.set(b, files.get(a)!);
      files.delete(a);
    },
    remove: (p) => {
      floor.unlink(files.get(p)!, dirs.get(dirname(p))!, basename(p));
      files.delete(p);
    },
    mkdir,
    mkdirRecursive: (p) => {
      let at = '';
      for (const part of p.split('/').slice(1)) {
        at += `/${part}`;
        if (!dirs.has(at)) mkdir(at);
      }
    },
    stat: unsupported,
    read: unsupported,
    readdir: unsupported,
    close: () => floor.close(),
  };
}

/** Opens a contender on `file` (a fresh path, or the one a previous open wrote). */
export function openContender(contender: Contender, file: string): Api {
  const at = isFile(contender) ? file : ':memory:';
  if (contender.startsWith('floor')) return floorApi(new SqliteFloor(at));
  if (contender.startsWith('ledgerfs-fs')) return fsApi(openStore({ file: at }));
  if (contender.startsWith('ledgerfs-ws')) {
    const store = openStore({ file: at });
    return workspaceApi(new Workspace({ sql: store }), () => store.close());
  }
  const sql = shellSqlite(at);
  return workspaceApi(new ShellWorkspace({ sql: sql.backend }), () => sql.close());
}
