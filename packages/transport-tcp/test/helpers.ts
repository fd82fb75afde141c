import { execFileSync } from 'node:child_process';
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

/**
 * A self-signed certificate for localhost, 127.0.0.1 and ::1, made fresh for this run with the
 * openssl CLI (one day valid: WebTransport's hash pinning wants 14 days or less).
 */
export function selfSigned(prefix = 'rpcx-tls-'): { dir: string; keyPath: string; certPath: string; key: string; cert: string } {
  const dir = tempDir(prefix);
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', keyPath, '-out', certPath, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    ],
    { stdio: 'ignore' },
  );
  return { dir, keyPath, certPath, key: fs.readFileSync(keyPath, 'utf8'), cert: fs.readFileSync(certPath, 'utf8') };
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
