/**
 * A headless Chromium for tests that run a transport's browser code in a real browser (driven
 * over the DevTools protocol, e.g. with playwright-core's `chromium.connectOverCDP(endpoint)`).
 */
import { AssertionError } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface HeadlessChromium {
  /** The DevTools WebSocket URL (on 127.0.0.1). */
  readonly endpoint: string;
  readonly pid: number;
  /** SIGTERM to its process group (SIGKILL after 5 s), then its profile is removed. */
  stop(): Promise<void>;
}

/**
 * Starts Chromium (Debian's `/usr/bin/chromium` by default) headless with a fresh profile, in a
 * process group of its own so that its helpers (zygote, renderer, crashpad) stop with it;
 * resolves once DevTools listens. A missing binary fails (an `AssertionError`): a browser test
 * does not skip.
 */
export async function startHeadlessChromium(binary = '/usr/bin/chromium'): Promise<HeadlessChromium> {
  if (!fs.existsSync(binary)) {
    throw new AssertionError({ message: `Chromium not found at ${binary}: install Debian's package (apt-get install -y chromium); a browser test does not skip` });
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcx-chromium-'));
  const child = spawn(
    binary,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  const stop = async () => {
    await stopGroup(child);
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  let stderr = '';
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const fail = (message: string) => {
        clearTimeout(timer);
        reject(new AssertionError({ message }));
      };
      const timer = setTimeout(() => fail(`Chromium did not start in 30 s:\n${stderr}`), 30_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('error', (e) => fail(`Chromium failed to start: ${e.message}`));
      child.once('exit', (code, signal) => fail(`Chromium exited (${code ?? signal}) before listening:\n${stderr}`));
    });
    return { endpoint, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SIGTERM to the process group we started (SIGKILL after 5 s), then wait for its leader and helpers. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // The group is gone already.
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // Helpers may outlive the leader for a moment.
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(-child.pid!, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
    if (i === 40) signal('SIGKILL');
  }
  child.stderr?.destroy();
}

export interface ServedPage {
  /** `http://127.0.0.1:PORT/`: the page, which loads the script as a module from `/page.js`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves a blank HTML page that runs `script` (a bundled ES module) on 127.0.0.1, for a
 * browser test to open with any query string it needs.
 */
export async function servePage(script: string): Promise<ServedPage> {
  const html = '<!doctype html><title>rpcx</title><script type="module" src="/page.js"></script>';
  const web = http.createServer((req, res) => {
    if (req.url?.startsWith('/page.js')) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const { port } = web.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => web.close(() => resolve())),
  };
}
