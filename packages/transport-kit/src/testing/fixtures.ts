/**
 * Things a transport's tests need around it: certificates, addresses where nobody listens,
 * peers that never answer. Loopback only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { joinHostPort } from '@rpcx/core';
import { sleep } from './recorder.js';

/**
 * A fresh temporary directory, removed after the test file: by the runner's global `afterAll`
 * (jest, vitest, node:test's globals; so call it at file or `describe` scope, as fixtures are),
 * or at process exit where there is none. A jest worker's `process` is a copy whose `exit`
 * never fires, which is why exit alone left a directory behind per run.
 */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const afterAll = (globalThis as { afterAll?: (fn: () => void) => void }).afterAll;
  if (typeof afterAll === 'function') afterAll(remove);
  else process.once('exit', remove);
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

/** Whether this machine has an IPv6 loopback to test `::1` on. */
export async function hasIPv6Loopback(): Promise<boolean> {
  const server = net.createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

/** A TCP address on `host` where nothing listens: bound to a free port, then released. */
export async function refusedAddress(host = '127.0.0.1'): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return joinHostPort(host, port);
}

/** A UDP address on `host` where nothing listens: bound to a free port, then released. */
export async function refusedUdpAddress(host = '127.0.0.1'): Promise<string> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return joinHostPort(host, port);
}

/**
 * A plain TCP server that accepts and never says a word: a TLS (or HTTP, or WebSocket) dial to
 * it hangs. `close()` fails when the dialler did not let go of its socket after giving up.
 */
export async function silentServer(host = '127.0.0.1'): Promise<{ address: string; close(): Promise<void> }> {
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
      for (let i = 0; i < 100 && sockets.size > 0; i++) await sleep(10);
      const leaked = sockets.size;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      assert.equal(leaked, 0, `${leaked} dialled socket(s) left open after the dial failed`);
    },
  };
}

/**
 * A UDP socket that takes datagrams and never answers: a QUIC or KCP dial to it never
 * completes. `close()` fails when the dialler still sends 400 ms after it gave up.
 */
export async function silentUdpServer(host = '127.0.0.1'): Promise<{ address: string; received(): number; close(): Promise<void> }> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let received = 0;
  let last = 0;
  socket.on('message', () => {
    received++;
    last = Date.now();
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const address = joinHostPort(host, socket.address().port);
  return {
    address,
    received: () => received,
    async close() {
      // A dialler that gave up must go quiet: wait for 400 ms without a datagram (while it
      // still tries it sends every few hundred ms).
      const started = Date.now();
      while (Date.now() - Math.max(last, started) < 400 && Date.now() - started < 4000) await sleep(50);
      const quiet = Date.now() - last >= 400;
      await new Promise<void>((resolve) => socket.close(resolve));
      assert.ok(quiet, `the dialler still sends to ${address} after its dial gave up`);
    },
  };
}
