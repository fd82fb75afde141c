import { MultiError, type ServerPlugin } from '@rpcx/core';
import { asError } from './dispatch.js';

type HookName = Exclude<keyof ServerPlugin, 'name'>;

/** Every hook of a `ServerPlugin` (the `Record` makes the compiler check the list is whole). */
const HOOKS = Object.keys({
  register: 0,
  unregister: 0,
  registerFunction: 0,
  connAccept: 0,
  connClose: 0,
  preReadRequest: 0,
  postReadRequest: 0,
  preHandleRequest: 0,
  preCall: 0,
  postCall: 0,
  preWriteResponse: 0,
  postWriteResponse: 0,
  preWriteRequest: 0,
  postWriteRequest: 0,
  heartbeat: 0,
} satisfies Record<HookName, 0>) as HookName[];

/** Per hook, the plugins that implement it. */
export type HookLists = { readonly [K in HookName]: (ServerPlugin & Required<Pick<ServerPlugin, K>>)[] };

/** The plugins implementing each hook, in insertion order. */
function listsOf(plugins: readonly ServerPlugin[]): HookLists {
  const lists: Partial<Record<HookName, ServerPlugin[]>> = {};
  for (const hook of HOOKS) lists[hook] = plugins.filter((p) => typeof p[hook] === 'function');
  return lists as HookLists;
}

/**
 * The server's plugins, with one array per hook so the request path touches only the
 * plugins that implement a hook and skips hooks nobody implements.
 */
export class PluginContainer {
  private readonly all: ServerPlugin[] = [];
  /**
   * Every hook's list, made again when a plugin is added: a request reads about seven of them,
   * and a lookup per read (a Map, or lists filled on first use) was 4–5% of the server's time at
   * 256 calls in flight; a named property read costs next to nothing.
   */
  private lists: HookLists = listsOf([]);

  add(plugin: ServerPlugin): void {
    this.all.push(plugin);
    this.lists = listsOf(this.all);
  }

  list(): readonly ServerPlugin[] {
    return this.all;
  }

  /**
   * Per hook, the plugins implementing it, in insertion order: `plugins.hooks.preCall`. Read at
   * each use (a plugin added later makes new lists).
   */
  get hooks(): HookLists {
    return this.lists;
  }

  /**
   * Run a registration hook on every plugin and collect the failures (Go's register hooks
   * return a MultiError rather than stopping at the first).
   */
  async runAll<K extends 'register' | 'unregister' | 'registerFunction'>(
    hook: K,
    call: (plugin: ServerPlugin & Required<Pick<ServerPlugin, K>>) => unknown,
  ): Promise<void> {
    const errors: Error[] = [];
    for (const p of this.lists[hook]) {
      try {
        await call(p);
      } catch (err) {
        errors.push(asError(err));
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new MultiError(errors);
  }
}
