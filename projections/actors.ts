// Who made an op, in the few words the history commands and the timeline page name it by.
import type { Actor } from '../log/index.ts';

/** An actor in a few words: kind, exec id (or caller, or tool call id and tool), pid, command. */
export function describeActor(actor: Actor | null): string {
  if (!actor) return '(checkpoint)';
  const parts: string[] = [actor.kind];
  if (actor.id) parts.push(actor.id);
  if (actor.name) parts.push(actor.name);
  if (actor.pid !== undefined) parts.push(`pid ${actor.pid}`);
  if (actor.command) parts.push(JSON.stringify(actor.command.length > 60 ? `${actor.command.slice(0, 59)}…` : actor.command));
  return parts.join(' ');
}
