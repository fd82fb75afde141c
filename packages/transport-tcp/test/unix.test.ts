import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Connection } from '@rpcx/core';
import { tempDir, transportCompliance } from '@rpcx/transport-kit/testing';
import { tcpTransport } from '../src/index.js';

const dir = tempDir('rpcx-unix-');
let seq = 0;
const socketPath = () => path.join(dir, `s${++seq}.sock`);

transportCompliance({
  name: 'unix socket',
  transport: () => tcpTransport(),
  network: 'unix',
  listenAddress: socketPath,
  // No file at all: Go's and Node's dials both fail with ENOENT.
  refusedAddress: socketPath,
});

/** A socket file whose server died without removing it, as after a crash. */
function staleSocket(file: string): void {
  const script = `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script]);
  expect(fs.lstatSync(file).isSocket()).toBe(true);
}

describe('unix specifics', () => {
  const transport = tcpTransport();
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('names both ends as Go does: the path, and "@" for the unnamed dialling end', async () => {
    const file = socketPath();
    let accept!: (c: Connection) => void;
    const accepted = new Promise<Connection>((resolve) => (accept = resolve));
    const listener = await transport.listen('unix', file, accept);
    cleanups.push(() => listener.close());
    expect(listener.address).toBe(file);
    const client = await transport.dial('unix', file);
    cleanups.push(() => client.destroy());
    const server = await accepted;
    cleanups.push(() => server.destroy());
    expect([client.remoteAddress, client.localAddress]).toEqual([file, '@']);
    expect([server.localAddress, server.remoteAddress]).toEqual([file, '@']);
  });

  it('refused dials read like Go: no such file or directory', async () => {
    const file = socketPath();
    await expect(transport.dial('unix', file)).rejects.toThrow(
      `dial unix ${file}: connect: no such file or directory`,
    );
  });

  it('removes a stale socket file and listens', async () => {
    const file = socketPath();
    staleSocket(file);
    await expect(transport.dial('unix', file)).rejects.toThrow('connection refused');
    const listener = await transport.listen('unix', file, (c) => c.destroy());
    cleanups.push(() => listener.close());
    expect(listener.address).toBe(file);
  });

  it('leaves a stale socket alone with unlinkStaleSocket: false', async () => {
    const file = socketPath();
    staleSocket(file);
    await expect(tcpTransport({ unlinkStaleSocket: false }).listen('unix', file, () => {})).rejects.toMatchObject({
      code: 'RPCX_ERR_LISTEN',
      message: `listen unix ${file}: bind: address already in use`,
    });
  });

  it('never takes the socket of a live server, nor a file that is not a socket', async () => {
    const file = socketPath();
    const live = await transport.listen('unix', file, (c) => c.destroy());
    cleanups.push(() => live.close());
    await expect(transport.listen('unix', file, () => {})).rejects.toMatchObject({ code: 'RPCX_ERR_LISTEN' });
    // The live server still accepts.
    const client = await transport.dial('unix', file);
    client.destroy();

    const plain = path.join(dir, 'plain-file');
    fs.writeFileSync(plain, 'data');
    await expect(transport.listen('unix', plain, () => {})).rejects.toMatchObject({ code: 'RPCX_ERR_LISTEN' });
    expect(fs.readFileSync(plain, 'utf8')).toBe('data');
  });

  it('removes its socket file on close', async () => {
    const file = socketPath();
    const listener = await transport.listen('unix', file, () => {});
    expect(fs.existsSync(file)).toBe(true);
    await listener.close();
    expect(fs.existsSync(file)).toBe(false);
  });

  (process.platform === 'linux' ? it : it.skip)('serves Linux abstract sockets written "@name", as Go does (skipped off Linux, which alone has them)', async () => {
    const name = `@rpcx-test-${process.pid}-${Date.now()}`;
    let accept!: (c: Connection) => void;
    const accepted = new Promise<Connection>((resolve) => (accept = resolve));
    const listener = await transport.listen('unix', name, accept);
    cleanups.push(() => listener.close());
    expect(listener.address).toBe(name);
    const client = await transport.dial('unix', name);
    cleanups.push(() => client.destroy());
    const server = await accepted;
    cleanups.push(() => server.destroy());
    const got = new Promise<string>((resolve) =>
      server.setHandler({ onData: (chunk) => resolve(Buffer.from(chunk).toString()), onClose() {} }),
    );
    client.write(Buffer.from('abstract'));
    expect(await got).toBe('abstract');
    // Nothing in the file system.
    expect(fs.existsSync(name)).toBe(false);
    // And Node itself can reach it with the NUL spelling.
    const probe = net.connect({ path: '\0' + name.slice(1) });
    await new Promise<void>((resolve, reject) => probe.once('connect', resolve).once('error', reject));
    probe.destroy();
  });
});
