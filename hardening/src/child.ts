/** Starts `serve.ts` in a child Node process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  port: number;
  key: string;
  pid: number;
  /** The child's `process.memoryUsage()`; rejects if it does not answer within 10 s. */
  memory(): Promise<NodeJS.MemoryUsage>;
  /** Exit code or signal once the child has exited, `undefined` while it runs. */
  readonly exited: string | undefined;
  stop(): Promise<void>;
}

export function spawnServer(): Promise<ServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./serve.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = signal ?? String(code);
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (first: { port: number; key: string }) => {
      resolve({
        port: first.port,
        key: first.key,
        pid: child.pid!,
        get exited() {
          return exited;
        },
        memory: () =>
          new Promise((resolveMemory, rejectMemory) => {
            const timer = setTimeout(() => rejectMemory(new Error('the server did not report its memory in 10 s')), 10_000);
            const onMessage = (m: { memory?: NodeJS.MemoryUsage }) => {
              if (!m.memory) return;
              clearTimeout(timer);
              child.off('message', onMessage);
              resolveMemory(m.memory);
            };
            child.on('message', onMessage);
            child.send('memory');
          }),
        async stop() {
          if (exited === undefined) {
            child.disconnect();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await gone;
            clearTimeout(timer);
          }
        },
      });
    });
    void gone.then(() => reject(new Error(`the server process exited (${exited}) before listening`)));
  });
}
