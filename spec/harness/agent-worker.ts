// A Worker for the tests: an agent's own Durable Object code writing through the Workspace API
// (the way agents use @cloudflare/shell's inside their object). POST /workspaces/<name>/agent
// with {path, text} writes one file as the agent (no token: a test's harness); every other
// route is the real Worker's.
import worker, { WorkspaceObject, type Env } from '../../server/worker.ts';

export class AgentObject extends WorkspaceObject {
  override async fetch(request: Request): Promise<Response> {
    if (!new URL(request.url).pathname.endsWith('/agent')) return super.fetch(request);
    const { path, text } = (await request.json()) as { path: string; text: string };
    await this.workspace.as({ kind: 'tool', id: 'agent-1', name: 'write' }).writeFile(path, text);
    return new Response('written\n');
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const agent = /^\/workspaces\/([A-Za-z0-9._-]+)\/agent$/.exec(new URL(request.url).pathname);
    if (!agent) return worker.fetch(request, env);
    return env.WORKSPACES.get(env.WORKSPACES.idFromName(agent[1]!)).fetch(request);
  },
};
