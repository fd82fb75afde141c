import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { joinHostPort } from '@rpcx/core';

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An address on `host` where nothing listens: bound to a free port, then released. */
export async function refusedAddress(host: string): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return joinHostPort(host, port);
}

/**
 * A plain TCP server that accepts and never says a word: a TLS dial to it hangs in the
 * handshake. `close()` checks that the dialler let go of its socket before shutting down.
 */
export async function silentServer(host: string): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    // Read (and drop) so that the dialler's FIN is seen.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: joinHostPort(host, port),
    async close() {
      // The dial gave up, so its socket must close on its own.
      for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      const leaked = sockets.size;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (leaked > 0) throw new Error(`${leaked} dialled socket(s) left open after the dial failed`);
    },
  };
}

/** Whether this machine has an IPv6 loopback to test `::1` on. */
export async function hasIPv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
