// What a peer can call. capnweb lets a peer call every method and getter on an RpcTarget's
// prototype chain, whatever TypeScript says is private. So an implementation is never an
// RpcTarget itself: rpcSurface builds a target whose prototype holds exactly the named methods,
// each delegating to the implementation kept in a #private field, which capnweb cannot reach.
import { RpcTarget } from 'capnweb';

type Methods = Record<string, (...args: never[]) => unknown>;

/** One capnweb session's target and what ends it (subscriptions, streams); close is not callable. */
export interface Session {
  target: RpcTarget;
  close(): void;
}

const classes = new WeakMap<readonly string[], new (impl: object) => RpcTarget>();

function surfaceClass(methods: readonly string[]): new (impl: object) => RpcTarget {
  let implOf!: (surface: object) => Methods;
  class Surface extends RpcTarget {
    readonly #impl: Methods;
    constructor(impl: object) {
      super();
      this.#impl = impl as Methods;
    }
    static {
      implOf = (surface) => (surface as Surface).#impl;
    }
  }
  for (const name of methods) {
    Object.defineProperty(Surface.prototype, name, {
      value(this: object, ...args: never[]) {
        return implOf(this)[name]!(...args);
      },
    });
  }
  return Surface;
}

/** A capnweb target whose only callable names are `methods`, each calling the same method of `impl`. */
export function rpcSurface<T extends object, const K extends keyof T & string>(impl: T, methods: readonly K[]): RpcTarget & Pick<T, K> {
  let Surface = classes.get(methods);
  if (!Surface) classes.set(methods, (Surface = surfaceClass(methods)));
  return new Surface(impl) as RpcTarget & Pick<T, K>;
}

/** A session serving `methods` of `impl`, ended by `impl.close()`. */
export function rpcSession<T extends { close(): void }, const K extends keyof T & string>(impl: T, methods: readonly K[]): Session {
  return { target: rpcSurface(impl, methods), close: () => impl.close() };
}
