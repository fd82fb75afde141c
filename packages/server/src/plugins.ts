import { MultiError, type ServerPlugin } from '@rpcx/core';
import { asError } from './dispatch.js';

type HookName = Exclude<keyof ServerPlugin, 'name'>;

/**
 * The server's plugins, with one array per hook so the request path touches only the
 * plugins that implement a hook and skips hooks nobody implements.
 */
export class PluginContainer {
  private readonly all: ServerPlugin[] = [];
  /**
   * The list per hook, filled on first use. A plain object, not a Map: a request asks for about
   * seven hooks, and a property read at a call site with a constant name costs next to nothing.
   */
  private byHook: Partial<Record<HookName, ServerPlugin[]>> = {};

  add(plugin: ServerPlugin): void {
    this.all.push(plugin);
    this.byHook = {};
  }

  list(): readonly ServerPlugin[] {
    return this.all;
  }

  /** Plugins implementing `hook`, in insertion order (cached until the set changes). */
  with<K extends HookName>(hook: K): (ServerPlugin & Required<Pick<ServerPlugin, K>>)[] {
    const list = (this.byHook[hook] ??= this.all.filter((p) => typeof p[hook] === 'function'));
    return list as (ServerPlugin & Required<Pick<ServerPlugin, K>>)[];
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
    for (const p of this.with(hook)) {
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
