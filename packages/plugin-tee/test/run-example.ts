// Runs an example of examples/protection as a user does (`node --import tsx`), and resolves
// with its stdout lines; rejects with its output when it fails or takes over 60 s.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

export function runExample(name: string, env: Record<string, string> = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join('protection', `${name}.ts`)],
      { cwd: EXAMPLES, timeout: 60_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) => (err ? reject(new Error(`${name}.ts failed: ${err.message}\n${stderr}${stdout}`)) : resolve(stdout.trim().split('\n'))),
    );
  });
}
