/**
 * The server `pnpm fuzz` and `pnpm soak` run against, in a process of its own (so a crash or
 * a heap blow-up is seen as such): its first IPC message is `{ port, key }`, and it answers
 * `'memory'` with `process.memoryUsage()`. It exits when its parent goes away.
 */
import { startServer } from './fixture.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const fixture = await startServer({ logger: silent });
process.send!({ port: fixture.port, key: fixture.key });
process.on('message', (message) => {
  if (message === 'memory') process.send!({ memory: process.memoryUsage() });
});
process.on('disconnect', () => void fixture.server.close().finally(() => process.exit(0)));
