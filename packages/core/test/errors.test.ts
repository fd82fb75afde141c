import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as catalogue from '../src/errors.js';
import {
  CallTimeoutError,
  ConnectionError,
  DialError,
  DialTimeoutError,
  ErrorCode,
  RpcxError,
  ServiceError,
  TimeoutError,
  isRpcxError,
} from '../src/errors.js';

type Catalogue = typeof catalogue;

/** A second, separately loaded copy of the module, as when an app and a plugin each install @rpcx/core. */
async function loadSecondCopy(): Promise<{ copy: Catalogue; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'rpcx-core-copy-'));
  copyFileSync(fileURLToPath(new URL('../src/errors.ts', import.meta.url)), join(dir, 'errors.ts'));
  const copy = (await import(join(dir, 'errors.ts'))) as Catalogue;
  return { copy, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const errorClasses = Object.entries(catalogue).filter(
  (e): e is [string, typeof RpcxError] => typeof e[1] === 'function' && (e[1] === RpcxError || e[1].prototype instanceof RpcxError),
);

describe('error catalogue', () => {
  test('every class has its own fixed code from ErrorCode, and no two classes share one', () => {
    const codes = errorClasses.map(([, cls]) => (cls as unknown as { code: ErrorCode }).code);
    expect(new Set(codes).size).toBe(codes.length);
    const known = new Set<string>(Object.values(ErrorCode));
    for (const code of codes) expect(known.has(code)).toBe(true);
    expect(errorClasses.length).toBe(Object.keys(ErrorCode).length);
  });

  test('an instance carries its class code, its class name and its cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new DialError('dial tcp 127.0.0.1:1: connect: connection refused', { cause });
    expect(e.code).toBe('RPCX_ERR_DIAL');
    expect(e.name).toBe('DialError');
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e).not.toBeInstanceOf(TimeoutError);
  });

  test('the three timeouts are told apart by class, and all are TimeoutErrors', () => {
    const call = new CallTimeoutError();
    const dial = new DialTimeoutError('dial tcp 10.0.0.1:80: i/o timeout');
    const deadline = new catalogue.DeadlineExceededError();
    for (const e of [call, dial, deadline]) expect(e).toBeInstanceOf(TimeoutError);
    expect(dial).not.toBeInstanceOf(CallTimeoutError);
    expect(call).not.toBeInstanceOf(DialTimeoutError);
    expect([call.code, dial.code, deadline.code]).toEqual(['RPCX_ERR_CALL_TIMEOUT', 'RPCX_ERR_DIAL_TIMEOUT', 'RPCX_ERR_DEADLINE']);
  });

  test('plain errors and look-alikes are not catalogue errors', () => {
    expect(new Error('x')).not.toBeInstanceOf(RpcxError);
    expect({ code: 'RPCX_ERR_DIAL', message: 'x' }).not.toBeInstanceOf(DialError);
    expect(isRpcxError(null)).toBe(false);
    expect(isRpcxError('RPCX_ERR_DIAL')).toBe(false);
  });

  test('instanceof works across two installed copies of @rpcx/core, in both directions', async () => {
    const { copy, cleanup } = await loadSecondCopy();
    try {
      expect(copy.ServiceError).not.toBe(ServiceError);
      const fromCopy = new copy.ServiceError('boom', { reply: { C: 1 } });
      expect(fromCopy).toBeInstanceOf(ServiceError);
      expect(fromCopy).toBeInstanceOf(RpcxError);
      expect(isRpcxError(fromCopy)).toBe(true);
      expect((fromCopy as ServiceError).reply).toEqual({ C: 1 });
      expect(fromCopy).not.toBeInstanceOf(ConnectionError);

      const dialTimeout = new copy.DialTimeoutError('dial tcp 10.0.0.1:80: i/o timeout');
      expect(dialTimeout).toBeInstanceOf(TimeoutError);
      expect(dialTimeout).not.toBeInstanceOf(CallTimeoutError);

      const ours = new DialError('refused');
      expect(ours).toBeInstanceOf(copy.ConnectionError);
      expect(ours).not.toBeInstanceOf(copy.ServiceError);
    } finally {
      cleanup();
    }
  });
});

describe('the catalogue is the only place codes are written', () => {
  // Every package's sources, read from the repository: a code literal outside core means a
  // condition that bypassed the catalogue (and a code a user cannot import).
  const packagesDir = fileURLToPath(new URL('../../', import.meta.url));
  test('no package source outside @rpcx/core contains an RPCX_ERR_ literal', () => {
    const offenders: string[] = [];
    for (const pkg of readdirSync(packagesDir)) {
      if (pkg === 'core') continue;
      const src = join(packagesDir, pkg, 'src');
      for (const file of walk(src)) {
        if (/'RPCX_ERR[A-Z_]*'|"RPCX_ERR[A-Z_]*"/.test(readFileSync(file, 'utf8'))) offenders.push(file.slice(packagesDir.length));
      }
    }
    expect(offenders).toEqual([]);
  });
});

function* walk(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}
