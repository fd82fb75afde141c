// The clients' own emitter (no node:events): Node's listener semantics for what they expose.
import { Emitter, events } from '../src/emitter.js';

type Events = { message: [string]; close: [Error | undefined] };

describe('Emitter', () => {
  test('on / once / off, in order, snapshot per emit', () => {
    const e = new Emitter<Events>();
    const seen: string[] = [];
    const a = (m: string) => seen.push(`a:${m}`);
    const b = (m: string) => {
      seen.push(`b:${m}`);
      e.off('message', a); // takes effect from the next emit
    };
    e.on('message', a).on('message', b).once('message', (m) => seen.push(`once:${m}`));
    expect(e.listenerCount('message')).toBe(3);
    expect(e.emit('message', '1')).toBe(true);
    expect(e.emit('message', '2')).toBe(true);
    expect(seen).toEqual(['a:1', 'b:1', 'once:1', 'b:2']);
    const c = () => {};
    e.once('close', c);
    e.removeListener('close', c);
    expect(e.emit('close', undefined)).toBe(false);
    e.removeAllListeners();
    expect(e.listenerCount('message')).toBe(0);
  });

  test('events() queues, and ends on abort after what was queued', async () => {
    const e = new Emitter<Events>();
    const ac = new AbortController();
    const it = events(e, 'message', ac.signal);
    const first = it.next();
    e.emit('message', 'x');
    expect(await first).toEqual({ value: 'x', done: false });
    e.emit('message', 'y');
    ac.abort();
    expect(await it.next()).toEqual({ value: 'y', done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
    expect(e.listenerCount('message')).toBe(0);
  });
});
