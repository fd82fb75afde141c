// The `rpcx` executable: run the command line, then exit with its status once the output
// is flushed (a registry client left open must not keep the process alive).
import { run } from './cli.js';

const code = await run(process.argv.slice(2));
const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
