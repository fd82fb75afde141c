/**
 * A small typed event emitter with the part of Node's `EventEmitter` API the clients expose
 * (`on`, `addListener`, `once`, `off`, `removeListener`, `removeAllListeners`, `emit`,
 * `listenerCount`, `listeners`), and `events()`, an async iterator over one event. It uses no
 * Node API, so the clients also run in browsers.
 */

/** Event name → listener arguments, as for Node's typed `EventEmitter<T>`. */
export type EventMap<T> = { [K in keyof T]: unknown[] };

type Listener<A extends unknown[]> = (...args: A) => void;
type AnyListener = (...args: unknown[]) => void;

/** A `once` wrapper remembers what it wraps, so that `off(original)` removes it. */
interface OnceWrapper extends AnyListener {
  listener: AnyListener;
}

export class Emitter<T extends EventMap<T>> {
  #listeners = new Map<keyof T, AnyListener[]>();

  /** Add `listener` for `event`, after the others. */
  on<K extends keyof T>(event: K, listener: Listener<T[K]>): this {
    const list = this.#listeners.get(event);
    // A new array on every change: `emit` iterates the array it started with.
    this.#listeners.set(event, list ? [...list, listener as AnyListener] : [listener as AnyListener]);
    return this;
  }

  addListener<K extends keyof T>(event: K, listener: Listener<T[K]>): this {
    return this.on(event, listener);
  }

  /** Add `listener` for the next `event` only. */
  once<K extends keyof T>(event: K, listener: Listener<T[K]>): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, listener);
      (listener as AnyListener).apply(this, args);
    }) as OnceWrapper;
    wrapper.listener = listener as AnyListener;
    return this.on(event, wrapper as unknown as Listener<T[K]>);
  }

  /** Remove the most recently added registration of `listener` (a plain or a `once` one). */
  off<K extends keyof T>(event: K, listener: Listener<T[K]>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    for (let i = list.length - 1; i >= 0; i--) {
      const l = list[i];
      if (l === listener || (l as Partial<OnceWrapper>).listener === listener) {
        if (list.length === 1) this.#listeners.delete(event);
        else this.#listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
        break;
      }
    }
    return this;
  }

  removeListener<K extends keyof T>(event: K, listener: Listener<T[K]>): this {
    return this.off(event, listener);
  }

  /** Remove every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof T): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /**
   * Call the listeners of `event` in order, synchronously; returns whether there were any.
   * A listener that throws stops the others and the error reaches the caller, as in Node.
   */
  emit<K extends keyof T>(event: K, ...args: T[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const l of list) l.apply(this, args);
    return true;
  }

  listenerCount(event: keyof T): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** The listeners of `event` (the originals of `once` ones). */
  listeners<K extends keyof T>(event: K): Listener<T[K]>[] {
    return (this.#listeners.get(event) ?? []).map((l) => ((l as Partial<OnceWrapper>).listener ?? l) as Listener<T[K]>);
  }
}

/**
 * Every `event` from now on, as an async iterator of the first argument; events that come
 * while the consumer is busy are queued. It ends, without error, when `signal` aborts or the
 * consumer stops; the listener is removed then.
 */
export async function* events<T extends EventMap<T>, K extends keyof T>(
  emitter: Emitter<T>,
  event: K,
  signal?: AbortSignal,
): AsyncGenerator<T[K][0]> {
  if (signal?.aborted) return;
  const queue: T[K][0][] = [];
  let wake: (() => void) | undefined;
  let done = false;
  const onEvent = ((...args: T[K]) => {
    queue.push(args[0]);
    wake?.();
  }) as Listener<T[K]>;
  const onAbort = () => {
    done = true;
    wake?.();
  };
  emitter.on(event, onEvent);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift() as T[K][0];
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    emitter.off(event, onEvent);
    signal?.removeEventListener('abort', onAbort);
  }
}
