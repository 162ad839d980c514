// A scratch database inside the one a Durable Object has: the tables a scratch user creates get
// a prefix, and every statement it runs is rewritten to name them. Only names the scratch itself
// created are rewritten, and only where SQL names a table or index (after FROM, JOIN, INTO,
// UPDATE, TABLE, INDEX, ON, in pragma_table_info, or before `.column`), so columns and aliases
// keep their names.
import { assert } from './assert.ts';
import type { SqlAdapter, SqlStatement } from './sql.ts';

const CREATED = /\bCREATE\s+(?:TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)/gi;
const NAMED = /(\b(?:FROM|JOIN|INTO|UPDATE|TABLE|INDEX|EXISTS|ON)\s+|pragma_table_info\('|(?<![\w.]))([A-Za-z_][A-Za-z0-9_]*)\b(?=(\.[A-Za-z_])?)/gi;

let scratches = 0;

export class PrefixedScratch implements SqlAdapter {
  private readonly base: SqlAdapter;
  private readonly prefix: string;
  private readonly names = new Set<string>();
  private open = true;

  constructor(base: SqlAdapter) {
    this.base = base;
    this.prefix = `scratch${++scratches}_`;
  }

  /** `sql` with the scratch's own table and index names prefixed. */
  private rewrite(sql: string): string {
    for (const [, name] of sql.matchAll(CREATED)) this.names.add(name!);
    return sql.replace(NAMED, (all, lead: string | undefined, name: string, qualifies: string | undefined) => (
      (lead || qualifies) && this.names.has(name) ? `${lead ?? ''}${this.prefix}${name}` : all));
  }

  exec(sql: string): void {
    assert(this.open, 'scratch database used after close');
    this.base.exec(this.rewrite(sql));
  }

  prepare<Row>(sql: string): SqlStatement<Row> {
    assert(this.open, 'scratch database used after close');
    return this.base.prepare<Row>(this.rewrite(sql));
  }

  transaction<T>(fn: () => T): T {
    return this.base.transaction(fn);
  }

  sync(): void {}

  hasTable(name: string): boolean {
    return this.names.has(name) && this.base.hasTable(this.prefix + name);
  }

  scratch(): SqlAdapter {
    return new PrefixedScratch(this.base);
  }

  freeBytes(): number | null {
    return this.base.freeBytes();
  }

  get paramsMax(): number {
    return this.base.paramsMax;
  }

  /** Drops the scratch's tables (their indexes go with them). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    if (!this.base.isOpen) return;
    this.base.transaction(() => {
      for (const name of this.names) if (this.base.hasTable(this.prefix + name)) this.base.exec(`DROP TABLE ${this.prefix}${name}`);
    });
  }

  get isOpen(): boolean {
    return this.open && this.base.isOpen;
  }

  get file(): string | null {
    return null;
  }
}
