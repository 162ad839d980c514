// Multi-row statements: one INSERT of up to BULK_ROWS rows costs about what one row does, so
// writes that pile up during a transaction are flushed this way.
import type { SqlAdapter, SqlStatement, SqlValue } from './sql.ts';

const BULK_ROWS = 64;

export class BulkWriter {
  private readonly statements = new Map<number, SqlStatement>();
  private readonly sql: SqlAdapter;
  private readonly head: string;
  private readonly tuple: string;
  private readonly tail: string;

  /** `head` is e.g. 'INSERT OR REPLACE INTO t (a, b)', `tail` an optional ON CONFLICT clause. */
  constructor(sql: SqlAdapter, head: string, columns: number, tail = '') {
    this.sql = sql;
    this.head = head;
    this.tuple = `(${Array(columns).fill('?').join(', ')})`;
    this.tail = tail;
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
    for (let at = 0; at < rows.length; at += BULK_ROWS) {
      const slice = rows.slice(at, at + BULK_ROWS);
      this.statement(slice.length).run(...slice.flat());
    }
  }
}
