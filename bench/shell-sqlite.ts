// @cloudflare/shell's SqlBackend (query/run) over better-sqlite3, the way its own Node tests
// give it a database: used by the differential suite and by `bench api`.
import Database from 'better-sqlite3';

type Param = string | number | boolean | null;

export interface ShellSqlite {
  backend: { query<T>(sql: string, ...params: Param[]): T[]; run(sql: string, ...params: Param[]): void };
  db: Database.Database;
  close(): void;
}

/** A file (WAL, synchronous=NORMAL, as ledgerfs's own) or ':memory:'. */
export function shellSqlite(file: string): ShellSqlite {
  const db = new Database(file);
  if (file !== ':memory:') {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
  }
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) statements.set(sql, (statement = db.prepare(sql)));
    return statement;
  };
  const bind = (params: Param[]) => params.map((p) => (typeof p === 'boolean' ? Number(p) : p));
  return {
    db,
    backend: {
      query: <T>(sql: string, ...params: Param[]) => {
        const statement = prepare(sql);
        return (statement.reader ? statement.all(...bind(params)) : (statement.run(...bind(params)), [])) as T[];
      },
      run: (sql, ...params) => void prepare(sql).run(...bind(params)),
    },
    close: () => db.close(),
  };
}
