// AcceptedConnections: a listener whose socket outlives close() shuts down once, after the last
// connection, and its `drained` settles then.
import { AcceptedConnections } from '../src/index.js';

test('close() refuses new connections; the shutdown runs once the last one has gone, once', async () => {
  let shutdowns = 0;
  const live = new AcceptedConnections<string>(() => void shutdowns++);
  const listener = live.listener('quic', '127.0.0.1:1');
  live.add('a');
  live.add('b');
  expect(await listener.connectionCount()).toBe(2);
  let drained = false;
  void listener.drained.then(() => (drained = true));
  await listener.close();
  expect(live.closing).toBe(true);
  live.delete('a');
  await new Promise((r) => setImmediate(r));
  expect([shutdowns, drained]).toEqual([0, false]);
  live.delete('b');
  live.delete('b');
  await listener.drained;
  expect(shutdowns).toBe(1);
  expect(await listener.connectionCount()).toBe(0);
  await listener.close();
  expect(shutdowns).toBe(1);
});
