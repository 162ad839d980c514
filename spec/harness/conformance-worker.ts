// A Worker for the tests: runs the SQL adapter conformance suite inside a Durable Object, on its
// own SQLite storage, one object per check: GET /<check name> answers {failure: string | null}.
import { DoSqlite, type DoStorage } from '../../log/index.ts';
import { runAdapterChecks } from '../sql-adapter.conformance.ts';

export class ConformanceObject {
  private readonly storage: DoStorage;

  constructor(state: { storage: DoStorage }) {
    this.storage = state.storage;
  }

  fetch(request: Request): Response {
    const check = decodeURIComponent(new URL(request.url).pathname.slice(1));
    const results = runAdapterChecks(() => new DoSqlite(this.storage), check);
    if (!(check in results)) return new Response(`no check ${check}`, { status: 404 });
    return Response.json({ failure: results[check] });
  }
}

interface Env {
  CONFORMANCE: { idFromName(name: string): unknown; get(id: unknown): { fetch(request: Request): Promise<Response> } };
}

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const name = new URL(request.url).pathname;
    return env.CONFORMANCE.get(env.CONFORMANCE.idFromName(name)).fetch(request);
  },
};
