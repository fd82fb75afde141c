// The suite on the README's example transport (it must pass), and on transports with one
// fault each (the suite must fail them: a suite that passes everything checks nothing).
import assert from 'node:assert/strict';
import type { Connection, ConnectionHandler, Transport } from '@rpcx/core';
import { refusedAddress, transportCompliance, type TestRunner } from '../src/testing/index.js';
import { tinyTransport } from './fixtures/tiny-tcp.js';

transportCompliance({
  name: 'the README example (tiny over TCP)',
  transport: () => tinyTransport(),
  network: 'tiny',
  listenAddress: () => '127.0.0.1:0',
  refusedAddress: () => refusedAddress('127.0.0.1'),
});

/** Declares nothing: collects the suite's tests so that this file can run them itself. */
function collect(): { runner: TestRunner; tests: Map<string, () => void | Promise<void>> } {
  const tests = new Map<string, () => void | Promise<void>>();
  return { tests, runner: { describe: (_name, body) => body(), test: (name, body) => void tests.set(name, body) } };
}

/** tinyTransport with one method of each connection replaced. */
function faulty(change: (connection: Connection) => void): Transport {
  const inner = tinyTransport();
  return {
    networks: inner.networks,
    listen: (network, address, onConnection) =>
      inner.listen(network, address, (c) => {
        change(c);
        onConnection(c);
      }),
    dial: async (network, address, options) => {
      const c = await inner.dial(network, address, options);
      change(c);
      return c;
    },
  };
}

async function failures(transport: () => Transport, names: string[]): Promise<string[]> {
  const { runner, tests } = collect();
  transportCompliance({
    name: 'faulty',
    transport,
    network: 'tiny',
    listenAddress: () => '127.0.0.1:0',
    refusedAddress: () => refusedAddress('127.0.0.1'),
    runner,
  });
  const failed: string[] = [];
  for (const name of names) {
    const body = tests.get(name);
    assert.ok(body, `the suite has a test named ${name}`);
    const outcome = await Promise.race([
      Promise.resolve()
        .then(body)
        .then(
          () => 'passed',
          () => 'failed',
        ),
      new Promise<string>((resolve) => setTimeout(() => resolve('failed'), 5000).unref()),
    ]);
    if (outcome === 'failed') failed.push(name);
  }
  return failed;
}

describe('the suite catches faults', () => {
  test('onClose reported twice', async () => {
    const twice = faulty((c) => {
      const setHandler = c.setHandler.bind(c);
      c.setHandler = (handler: ConnectionHandler) =>
        setHandler({ ...handler, onClose: (error) => (handler.onClose(error), handler.onClose(error)) });
    });
    const names = ['client close() fires onClose once, without error, on both ends'];
    expect(await failures(() => twice, names)).toEqual(names);
  });

  test('data delivered from inside setHandler, and a setHandler that may be called twice', async () => {
    const eager = faulty((c) => {
      let set = false;
      const setHandler = c.setHandler.bind(c);
      c.setHandler = (handler: ConnectionHandler) => {
        if (set) return;
        set = true;
        handler.onData(new Uint8Array(0));
        setHandler(handler);
      };
    });
    const names = [
      'keeps bytes that arrive before the handler is set, and never calls the handler from inside setHandler',
      'a second setHandler throws a ConfigError',
    ];
    expect(await failures(() => eager, names)).toEqual(names);
  });

  test('writes lost after close()', async () => {
    const hasty = faulty((c) => {
      const close = c.close.bind(c);
      c.close = () => {
        c.destroy();
        return close();
      };
    });
    const names = ['close() sends queued writes first; writes after it are dropped'];
    expect(await failures(() => hasty, names)).toEqual(names);
  });

  test('pauseReading that does not pause', async () => {
    const deaf = faulty((c) => {
      c.pauseReading = () => {};
    });
    const names = ['pauseReading() holds what arrives until resumeReading(), then delivers it in order'];
    expect(await failures(() => deaf, names)).toEqual(names);
  });
});
