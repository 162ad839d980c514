// The synchronous SQL surface every store is written against, and the only door to a database:
// log/ and projections/ never name a driver. Two adapters implement it: better-sqlite3
// (sqlite-node.ts) and a Durable Object's `ctx.storage.sql` (sqlite-do.ts).

export type SqlValue = number | string | Uint8Array | null;
export type SqlRow = Record<string, SqlValue>;

export interface SqlStatement<Row = SqlRow> {
  /** Runs a statement for its effect (use RETURNING and get() to learn what it changed). */
  run(...params: SqlValue[]): void;
  all(...params: SqlValue[]): Row[];
  get(...params: SqlValue[]): Row | undefined;
  /** Rows as arrays of column values: cheaper than objects for bulk scans. */
  values(...params: SqlValue[]): SqlValue[][];
}

/**
 * Runs `ddl` unless `table` exists already: opening an existing store then takes no write lock,
 * so readers (ledgerfs log, verify) never wait on a writer's open transaction.
 */
export function ensureSchema(sql: SqlAdapter, table: string, ddl: string): void {
  if (!sql.hasTable(table)) sql.exec(ddl);
}

export interface SqlAdapter {
  /** Runs one or more statements without parameters (schema). */
  exec(sql: string): void;
  /** A reusable statement; adapters cache the compiled form. */
  prepare<Row = SqlRow>(sql: string): SqlStatement<Row>;
  /**
   * Runs fn atomically; a nested call joins the outer transaction; a throw out of fn rolls back
   * everything fn did. Never BEGIN/SAVEPOINT/COMMIT statements: a Durable Object refuses them.
   */
  transaction<T>(fn: () => T): T;
  /** Makes every committed transaction durable now (ends a group commit); inside a transaction, at its end. */
  sync(): void;
  hasTable(name: string): boolean;
  /**
   * A database for derived state thrown away on close (history views, verify, compaction): a
   * new in-memory database, or, where there is only one database, tables under a prefix in it.
   */
  scratch(): SqlAdapter;
  /** Bytes the database may still grow by, or null when nothing sensible is known. */
  freeBytes(): number | null;
  /** Bound parameters one statement may take. */
  readonly paramsMax: number;
  close(): void;
  /** False once closed (a close inside a transaction rolls it back). */
  readonly isOpen: boolean;
  /** The file behind the store, or null for an in-memory or Durable Object store. */
  readonly file: string | null;
}
