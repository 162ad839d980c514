// Tables under a prefix inside another database: a scratch database where a Durable Object has
// only one (dropped on close), and a workspace namespace (kept). Every statement run through it
// is rewritten to name the prefixed tables. Only names of tables under the prefix are rewritten,
// and only where SQL names a table or index (after FROM, JOIN, INTO, UPDATE, TABLE, INDEX, ON,
// in pragma_table_info, or before `.column`), so columns and aliases keep their names.
import { assert } from './assert.ts';
import type { SqlAdapter, SqlStatement } from './sql.ts';

const CREATED = /\bCREATE\s+(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)/gi;
const NAMED = /(\b(?:FROM|JOIN|INTO|UPDATE|TABLE|INDEX|EXISTS|ON)\s+|pragma_table_info\('|(?<![\w.]))([A-Za-z_][A-Za-z0-9_]*)\b(?=(\.[A-Za-z_])?)/gi;

let scratches = 0;

export class PrefixedSql implements SqlAdapter {
  private readonly base: SqlAdapter;
  private readonly prefix: string;
  private readonly dropOnClose: boolean;
  private readonly names = new Set<string>();
  private open = true;

  /** Tables already under `prefix` (a namespace opened again) are known from the start. */
  constructor(base: SqlAdapter, prefix: string, dropOnClose: boolean) {
    this.base = base;
    this.prefix = prefix;
    this.dropOnClose = dropOnClose;
    const existing = base.prepare<{ name: string }>(`SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND substr(name, 1, ?) = ?`);
    for (const { name } of existing.all(prefix.length, prefix)) this.names.add(name.slice(prefix.length));
  }

  /** `sql` with the prefixed tables' and indexes' names prefixed. */
  private rewrite(sql: string): string {
    for (const [, name] of sql.matchAll(CREATED)) this.names.add(name!);
    return sql.replace(NAMED, (all, lead: string | undefined, name: string, qualifies: string | undefined) => (
      (lead || qualifies) && this.names.has(name) ? `${lead ?? ''}${this.prefix}${name}` : all));
  }

  exec(sql: string): void {
    assert(this.open, 'prefixed database used after close');
    this.base.exec(this.rewrite(sql));
  }

  prepare<Row>(sql: string): SqlStatement<Row> {
    assert(this.open, 'prefixed database used after close');
    return this.base.prepare<Row>(this.rewrite(sql));
  }

  transaction<T>(fn: () => T): T {
    return this.base.transaction(fn);
  }

  sync(): void {
    if (!this.dropOnClose) this.base.sync();
  }

  hasTable(name: string): boolean {
    return this.names.has(name) && this.base.hasTable(this.prefix + name);
  }

  scratch(): SqlAdapter {
    return this.base.scratch();
  }

  freeBytes(): number | null {
    return this.base.freeBytes();
  }

  get paramsMax(): number {
    return this.base.paramsMax;
  }

  /** A scratch drops its tables (their indexes go with them); the base stays open either way. */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (!this.dropOnClose || !this.base.isOpen) return;
    this.base.transaction(() => {
      for (const name of this.names) if (this.base.hasTable(this.prefix + name)) this.base.exec(`DROP TABLE ${this.prefix}${name}`);
    });
  }

  get isOpen(): boolean {
    return this.open && this.base.isOpen;
  }

  get file(): string | null {
    return this.dropOnClose ? null : this.base.file;
  }
}

/** A scratch database in the same database: a fresh prefix, its tables dropped on close. */
export function prefixedScratch(base: SqlAdapter): SqlAdapter {
  return new PrefixedSql(base, `scratch${++scratches}_`, true);
}
