// GET /__wsd/timeline: the timeline page (projections/timeline.ts) of the live store, for the range
// the query names: `since` and `until`, positions as the CLI takes them. The timeline's own limits
// bound the work whatever the range; a bad query is a 400 naming the parameter.
import { CheckpointError } from '../log/index.ts';
import { buildTimeline, PositionError, resolvePosition, timelinePage, type Position, type Store } from '../projections/index.ts';
import { BadRequestError } from './http-server.ts';

const PARAMS = ['since', 'until'] as const;

export function timelineRoute(store: Store, title: string): (query: URLSearchParams) => string {
  return (query) => {
    for (const name of new Set(query.keys())) {
      if (!(PARAMS as readonly string[]).includes(name)) throw new BadRequestError(`unknown parameter ${JSON.stringify(name)}: the timeline takes ${PARAMS.join(' and ')}`);
      if (query.getAll(name).length > 1) throw new BadRequestError(`${name} is given more than once: give it once`);
    }
    const range: Partial<Record<(typeof PARAMS)[number], Position>> = {};
    for (const name of PARAMS) {
      const text = query.get(name);
      if (text === null) continue;
      try {
        range[name] = resolvePosition(store, text);
      } catch (error) {
        if (error instanceof PositionError || error instanceof CheckpointError) throw new BadRequestError(`${name}: ${error.message}`);
        throw error;
      }
    }
    try {
      return timelinePage(buildTimeline(store, range), title);
    } catch (error) {
      if (error instanceof PositionError) throw new BadRequestError(error.message);
      throw error;
    }
  };
}
