// Build, start and drive interop/go-protoc's stubpeer: Go rpcx v1.9.4 serving and calling the
// Shop service through a stub in protoc-gen-rpcx's shape (interop/go-protoc/README.md).
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startListeningPeer } from './go-peer.js';

export const STUBS_MODULE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go-protoc');
const STUBPEER = join(STUBS_MODULE, 'bin', 'stubpeer');

function exec(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `go build` the peer (seconds with Go's cache warm; the first build downloads and compiles rpcx). */
export function buildStubPeer(): Promise<string> {
  return exec('go', ['build', '-o', 'bin/stubpeer', './cmd/stubpeer'], STUBS_MODULE, 600_000);
}

export interface StubServer {
  /** `host:port`, as the Go stub's NewXClientForShop takes it. */
  address: string;
  stop(): Promise<void>;
}

/** `stubpeer serve` on a free loopback port, once it prints its LISTENING line. */
export async function startStubServer(): Promise<StubServer> {
  const peer = await startListeningPeer('stubpeer', STUBPEER, ['serve', '--addr', '127.0.0.1:0']);
  return { address: peer.key.replace(/^tcp@/, ''), stop: peer.stop };
}

/** What `stubpeer client` prints: replies as base64 protobuf, errors as Go's text. */
export interface StubClientResult {
  echoEqual: boolean;
  echoError?: string;
  receipt?: string;
  placeError?: string;
  oneClientReceipt?: string;
  oneClientError?: string;
  refuseError?: string;
  ping?: string;
  pingError?: string;
}

/** Runs `stubpeer client` against `address` (host:port) and parses its JSON. */
export async function runStubClient(address: string): Promise<StubClientResult> {
  const stdout = await exec(STUBPEER, ['client', '--addr', address], STUBS_MODULE, 60_000);
  return JSON.parse(stdout) as StubClientResult;
}
