// The tools an LLM calls on a Workspace (read, write, edit, ls, glob, grep, find, rm, mv), with
// JSON Schemas for their arguments. Each call's ops are attributed to the actor
// {kind: 'tool', id: <tool call id>, name: <tool>}, so `ledgerfs log --actor <id>` shows exactly
// what it changed. Every answer is text, bounded whatever the arguments.
import picomatch from 'picomatch';
import { WORKSPACE_LIST_COUNT_MAX } from '../log/index.ts';
import { FsError } from './errors.ts';
import type { Workspace } from './workspace.ts';

/** Lines one read answers at most; bytes any answer holds at most (then it says it was cut). */
export const TOOL_READ_LINES_MAX = 2000;
export const TOOL_ANSWER_CHARS_MAX = 256 * 1024;
/** Matching lines one grep answers at most, and bytes of a file it searches at most. */
export const TOOL_GREP_MATCHES_MAX = 200;
export const TOOL_GREP_FILE_BYTES_MAX = 1024 * 1024;

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: { type: 'object'; properties: Record<string, unknown>; required: string[]; additionalProperties: false };
}

const str = (description: string) => ({ type: 'string', description });
const int = (description: string) => ({ type: 'integer', minimum: 1, description });
const bool = (description: string) => ({ type: 'boolean', description });
const schema = (properties: Record<string, unknown>, required: string[]): ToolDefinition['inputSchema'] => ({ type: 'object', properties, required, additionalProperties: false });

export const WORKSPACE_TOOLS: ToolDefinition[] = [
  { name: 'read', description: `Read a text file, with line numbers; at most ${TOOL_READ_LINES_MAX} lines from offset (1-based).`, inputSchema: schema({ path: str('absolute path'), offset: int('first line, from 1'), limit: int('lines to read') }, ['path']) },
  { name: 'write', description: 'Create or replace a file with the given content (parent directories are made).', inputSchema: schema({ path: str('absolute path'), content: str('the whole new content') }, ['path', 'content']) },
  { name: 'edit', description: 'Replace an exact string in a file. Fails when old_string is missing, or appears more than once without replace_all.', inputSchema: schema({ path: str('absolute path'), old_string: str('exact text to replace'), new_string: str('replacement'), replace_all: bool('replace every occurrence') }, ['path', 'old_string', 'new_string']) },
  { name: 'ls', description: 'List a directory: directories (with a trailing /), then files with sizes, then symlinks.', inputSchema: schema({ path: str('absolute path of a directory (default /)') }, []) },
  { name: 'glob', description: 'Paths matching a glob (**, *, ?, [...], {a,b}).', inputSchema: schema({ pattern: str('glob, e.g. /src/**/*.ts') }, ['pattern']) },
  { name: 'grep', description: `Lines matching a regular expression in files under a path, as path:line:text; at most ${TOOL_GREP_MATCHES_MAX} matches.`, inputSchema: schema({ pattern: str('JavaScript regular expression'), path: str('directory or file to search (default /)'), glob: str('only files whose path matches this glob'), ignore_case: bool('case-insensitive') }, ['pattern']) },
  { name: 'find', description: 'Entries under a path, optionally by name glob and type.', inputSchema: schema({ path: str('directory (default /)'), name: str('glob on the entry name, e.g. *.md'), type: { type: 'string', enum: ['file', 'directory', 'symlink'] } }, []) },
  { name: 'rm', description: 'Remove a file, or a directory with recursive.', inputSchema: schema({ path: str('absolute path'), recursive: bool('remove a directory and everything under it') }, ['path']) },
  { name: 'mv', description: 'Move or rename a file or directory.', inputSchema: schema({ from: str('current path'), to: str('new path') }, ['from', 'to']) },
];

const TOOLS = new Map(WORKSPACE_TOOLS.map((tool) => [tool.name, tool]));

/** Checks arguments against the tool's schema: known names, types, required ones. */
function checkArgs(tool: ToolDefinition, args: unknown): Record<string, unknown> {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw new FsError('EINVAL', tool.name, undefined, 'arguments are an object');
  const record = args as Record<string, unknown>;
  for (const name of tool.inputSchema.required) if (record[name] === undefined) throw new FsError('EINVAL', tool.name, undefined, `${name} is required`);
  for (const [name, value] of Object.entries(record)) {
    const property = tool.inputSchema.properties[name] as { type: string; enum?: string[] } | undefined;
    if (!property) throw new FsError('EINVAL', tool.name, undefined, `unknown argument ${name}`);
    const ok = property.type === 'integer' ? Number.isSafeInteger(value) && (value as number) >= 1 : typeof value === property.type;
    if (!ok || (property.enum && !property.enum.includes(value as string))) throw new FsError('EINVAL', tool.name, undefined, `${name} is ${property.enum ? `one of ${property.enum.join(', ')}` : `a${property.type === 'integer' ? ' positive' : ''} ${property.type}`}`);
  }
  return record;
}

const cut = (text: string) => (text.length <= TOOL_ANSWER_CHARS_MAX ? text : `${text.slice(0, TOOL_ANSWER_CHARS_MAX)}\n[cut at ${TOOL_ANSWER_CHARS_MAX} characters]`);

/** Runs tool `name` with `args` as tool call `callId`; the answer is text, or an error with `.code`. */
export async function callTool(workspace: Workspace, name: string, args: unknown, callId: string): Promise<string> {
  const tool = TOOLS.get(name);
  if (!tool) throw new FsError('EINVAL', 'tool', undefined, `no tool ${JSON.stringify(name)}: ${WORKSPACE_TOOLS.map((t) => t.name).join(', ')}`);
  if (typeof callId !== 'string' || callId === '') throw new FsError('EINVAL', name, undefined, 'a tool call has an id');
  const a = checkArgs(tool, args);
  const ws = workspace.as({ kind: 'tool', id: callId, name });
  return cut(await run(ws, name, a));
}

async function run(ws: Workspace, name: string, a: Record<string, unknown>): Promise<string> {
  const path = (a.path as string | undefined) ?? '/';
  switch (name) {
    case 'read': {
      const text = await ws.readFile(path);
      if (text === null) throw new FsError('ENOENT', 'read', path);
      const offset = (a.offset as number | undefined) ?? 1;
      const limit = Math.min((a.limit as number | undefined) ?? TOOL_READ_LINES_MAX, TOOL_READ_LINES_MAX);
      const lines = text.split('\n');
      return lines.slice(offset - 1, offset - 1 + limit).map((line, i) => `${String(offset + i).padStart(6)}\t${line}`).join('\n');
    }
    case 'write':
      await ws.writeFile(path, a.content as string);
      return `wrote ${path}`;
    case 'edit': {
      const n = await ws.edit(path, a.old_string as string, a.new_string as string, { replaceAll: a.replace_all === true });
      return `replaced ${n} occurrence${n === 1 ? '' : 's'} in ${path}`;
    }
    case 'ls':
      return (await ws.readDir(path, { limit: WORKSPACE_LIST_COUNT_MAX })).map((e) => (e.type === 'directory' ? `${e.name}/` : e.type === 'symlink' ? `${e.name} -> ${(e.target ?? '')}` : `${e.name}\t${e.size}`)).join('\n');
    case 'glob':
      return (await ws.glob(a.pattern as string)).map((e) => e.path).join('\n');
    case 'find': {
      const under = await ws.glob(`${path.replace(/\/+$/, '')}/**`);
      const named = a.name === undefined ? under : under.filter((e) => globMatches(a.name as string, e.name));
      return named.filter((e) => a.type === undefined || e.type === a.type).map((e) => e.path).join('\n');
    }
    case 'grep':
      return grep(ws, a.pattern as string, path, a.glob as string | undefined, a.ignore_case === true);
    case 'rm':
      await ws.rm(path, { recursive: a.recursive === true });
      return `removed ${path}`;
    default:
      await ws.mv(a.from as string, a.to as string);
      return `moved ${String(a.from)} to ${String(a.to)}`;
  }
}

/** A name glob through Workspace.glob's matcher. */
const globMatches = (pattern: string, name: string) => picomatch(pattern, { dot: true })(name);

async function grep(ws: Workspace, pattern: string, path: string, only: string | undefined, ignoreCase: boolean): Promise<string> {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, ignoreCase ? 'i' : '');
  } catch (error) {
    throw new FsError('EINVAL', 'grep', undefined, `bad regular expression: ${(error as Error).message}`);
  }
  const top = await ws.stat(path);
  const files = top?.type === 'file' ? [top] : (await ws.glob(only ?? `${path.replace(/\/+$/, '')}/**`)).filter((e) => e.type === 'file');
  const out: string[] = [];
  for (const file of files) {
    if (file.size > TOOL_GREP_FILE_BYTES_MAX) continue;
    const bytes = await ws.readFileBytes(file.path);
    if (!bytes || bytes.includes(0)) continue; // binary
    const lines = new TextDecoder().decode(bytes).split('\n');
    for (const [i, line] of lines.entries()) {
      if (!regex.test(line)) continue;
      if (out.length === TOOL_GREP_MATCHES_MAX) return `${out.join('\n')}\n[more than ${TOOL_GREP_MATCHES_MAX} matches: narrow the pattern or the path]`;
      out.push(`${file.path}:${i + 1}:${line}`);
    }
  }
  return out.join('\n');
}
