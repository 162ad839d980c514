// Multi-row statements: one INSERT of up to BULK_ROWS rows costs about what one row does, so
// writes that pile up during a transaction are flushed this way.
import { assert } from './assert.ts';
import type { SqlAdapter, SqlStatement, SqlValue } from './sql.ts';

/** Rows per statement, where the adapter's parameter limit allows as many. */
const BULK_ROWS = 64;

export class BulkWriter {
  private readonly statements = new Map<number, SqlStatement>();
  private readonly sql: SqlAdapter;
  private readonly head: string;
  private readonly tuple: string;
  private readonly tail: string;
  private readonly rowsMax: number;

  /** `head` is e.g. 'INSERT OR REPLACE INTO t (a, b)', `tail` an optional ON CONFLICT clause. */
  constructor(sql: SqlAdapter, head: string, columns: number, tail = '') {
    this.sql = sql;
    this.head = head;
    this.tuple = `(${Array(columns).fill('?').join(', ')})`;
    this.tail = tail;
    this.rowsMax = Math.min(BULK_ROWS, Math.floor(sql.paramsMax / columns));
    assert(this.rowsMax >= 1, `a row of ${columns} columns is over the adapter's ${sql.paramsMax} parameters`);
  }

  private statement(rows: number): SqlStatement {
    let stmt = this.statements.get(rows);
    if (!stmt) {
      stmt = this.sql.prepare(`${this.head} VALUES ${Array(rows).fill(this.tuple).join(', ')} ${this.tail}`);
      this.statements.set(rows, stmt);
    }
    return stmt;
  }

  write(rows: readonly SqlValue[][]): void {
    for (let at = 0; at < rows.length; at += this.rowsMax) {
      const end = Math.min(rows.length, at + this.rowsMax);
      const params: SqlValue[] = [];
      for (let i = at; i < end; i++) params.push(...rows[i]!);
      this.statement(end - at).run(...params);
    }
  }
}
