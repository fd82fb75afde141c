// Test-page stand-in for `node:events`, which @rpcx/xclient imports: the few EventEmitter
// methods it calls. `on()` (the async iterator behind `messages()`) is not needed for calls.
type Listener = (...args: any[]) => void;

export class EventEmitter {
  #listeners = new Map<string | symbol, Listener[]>();

  on(event: string | symbol, listener: Listener): this {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return this;
  }

  addListener(event: string | symbol, listener: Listener): this {
    return this.on(event, listener);
  }

  once(event: string | symbol, listener: Listener): this {
    const wrapper: Listener = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    (wrapper as { listener?: Listener }).listener = listener;
    return this.on(event, wrapper);
  }

  off(event: string | symbol, listener: Listener): this {
    const list = this.#listeners.get(event) ?? [];
    const i = list.findIndex((l) => l === listener || (l as { listener?: Listener }).listener === listener);
    if (i >= 0) this.#listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
    return this;
  }

  removeListener(event: string | symbol, listener: Listener): this {
    return this.off(event, listener);
  }

  emit(event: string | symbol, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event) ?? [];
    if (event === 'error' && list.length === 0) throw args[0];
    for (const listener of list) listener(...args);
    return list.length > 0;
  }

  listenerCount(event: string | symbol): number {
    return this.#listeners.get(event)?.length ?? 0;
  }
}

export function on(): never {
  throw new Error('events.on is not available in this test bundle');
}
