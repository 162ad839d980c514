// Checkers for the design's invariants that hold on any one replica: the tree (acyclic, every
// entry reachable from the root or the trash, parents are directories, link and subdirectory
// counts right, no duplicate visible names) and content (every referenced chunk present,
// sizes add up). They read the projection tables directly, not through the code under test.
import { expect } from 'vitest';
import { CHUNK_BYTES, manifestCount, ROOT_ID, TRASH_ID, unpackManifest } from '../log/index.ts';
import type { FileSystem, Store } from '../projections/index.ts';

interface Row {
  id: number;
  parent: number;
  node: number;
  type: string;
}

export function checkTree(store: Store, fs: FileSystem): void {
  store.projector.flush();
  const entries = store.sql.prepare<Row>('SELECT id, parent, node, type FROM entries').all();
  const nodes = new Map(store.sql.prepare<{ id: number; type: string | null; links: number; subdirs: number }>('SELECT id, type, links, subdirs FROM nodes').all().map((n) => [n.id, n]));
  const byId = new Map(entries.map((e) => [e.id, e]));
  const links = new Map<number, number>();
  const subdirs = new Map<number, number>();
  for (const entry of entries) {
    let at = entry.parent;
    for (let steps = 0; at !== ROOT_ID && at !== TRASH_ID; steps++) {
      expect(steps, `entry ${entry.id} is on a cycle`).toBeLessThanOrEqual(entries.length);
      const up = byId.get(at);
      expect(up, `entry ${entry.id} hangs off missing directory ${at}`).toBeDefined();
      at = up!.parent;
    }
    expect(nodes.get(entry.parent)?.type, `parent of entry ${entry.id}`).toBe('dir');
    expect(nodes.get(entry.node)?.type, `type of entry ${entry.id}`).toBe(entry.type);
    if (entry.type === 'dir') expect(entry.id, 'a directory entry shares its node id').toBe(entry.node);
    if (entry.parent !== TRASH_ID) links.set(entry.node, (links.get(entry.node) ?? 0) + 1);
    if (entry.type === 'dir') subdirs.set(entry.parent, (subdirs.get(entry.parent) ?? 0) + 1);
  }
  for (const node of nodes.values()) {
    expect(node.links, `links of node ${node.id}`).toBe(links.get(node.id) ?? 0);
    expect(node.subdirs, `subdirs of node ${node.id}`).toBe(subdirs.get(node.id) ?? 0);
  }
  const visit = (dir: number) => {
    const names = fs.readdir(dir).map((e) => Buffer.from(e.name).toString('hex'));
    expect(new Set(names).size, `duplicate visible names in ${dir}`).toBe(names.length);
    for (const e of fs.readdir(dir)) if (e.type === 'dir') visit(e.ino);
  };
  visit(ROOT_ID);
}

/**
 * No lost writes: every setContent in the log is a node's current content, a head (shown as a
 * conflict copy) or the base of another setContent.
 */
export function checkNoLostWrites(store: Store): void {
  store.projector.flush();
  const current = new Set(store.sql.prepare<{ op: number }>('SELECT op FROM content').all().map((r) => r.op));
  const heads = new Set(store.sql.prepare<{ op: number }>('SELECT op FROM heads').all().map((r) => r.op));
  const bases = new Set<string>();
  const writes: Array<{ id: number; ref: string }> = [];
  for (const { id, op } of store.log.scan()) {
    if (op.kind !== 'setContent') continue;
    for (const base of op.base) bases.add(base);
    writes.push({ id, ref: `${op.origin}:${op.seq}` });
  }
  for (const write of writes) {
    expect(current.has(write.id) || heads.has(write.id) || bases.has(write.ref), `setContent ${write.ref} was lost`).toBe(true);
  }
}

export function checkContent(store: Store): void {
  store.projector.flush();
  for (const row of store.sql.prepare<{ size: number; manifest: Uint8Array }>('SELECT size, manifest FROM content').all()) {
    expect(manifestCount(row.manifest)).toBe(Math.ceil(row.size / CHUNK_BYTES));
    let total = 0;
    for (const chunk of unpackManifest(row.manifest)) {
      expect(store.chunks.has(chunk.hash)).toBe(true);
      total += chunk.size;
    }
    expect(total).toBe(row.size);
  }
}
