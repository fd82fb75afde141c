// Headless Chromium for the browser tests (Debian's /usr/bin/chromium, driven over CDP by
// playwright-core's connectOverCDP): a fresh profile, loopback DevTools, no background
// networking (the machines have no internet), its own process group so every helper process
// stops with it. Without Chromium the tests fail; they never skip.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';

export interface RunningChromium {
  child: ChildProcess;
  /** The DevTools WebSocket URL, for `chromium.connectOverCDP`. */
  endpoint: string;
  profile: string;
}

/** Chromium with a fresh profile, in its own process group; resolves once DevTools listens. */
export async function startChromium(): Promise<RunningChromium> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium); this test does not skip`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcx-browser-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];
  args.push('--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`);
  args.push('--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', 'about:blank');
  const child = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Chromium did not start in 30 s:\n${stderr}`)), 30_000);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('error', (e) => (clearTimeout(timer), reject(e)));
      child.once('exit', (code, sig) => (clearTimeout(timer), reject(new Error(`Chromium exited (${code ?? sig}):\n${stderr}`))));
    });
    return { child, endpoint, profile };
  } catch (error) {
    await stopChromium({ child, profile });
    throw error;
  }
}

/** SIGTERM to the process group we started, SIGKILL after 5 s; then remove the profile. */
export async function stopChromium({ child, profile }: Pick<RunningChromium, 'child' | 'profile'>): Promise<void> {
  const pid = child.pid;
  const send = (sig: NodeJS.Signals) => {
    try {
      if (pid) process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
  send('SIGTERM');
  const timer = setTimeout(() => send('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  for (let i = 0; i < 50 && pid; i++) {
    try {
      process.kill(-pid, 0);
    } catch {
      break;
    }
    if (i === 40) send('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
  }
  child.stderr?.destroy();
  fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
