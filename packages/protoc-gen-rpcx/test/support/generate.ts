// Run the generator as protoc and buf run it: an executable named protoc-gen-rpcx-es (here a
// shell script starting src/main.ts through tsx, since the package's bin runs dist/, which
// only `pnpm build` writes; scripts/check-packages.mjs runs the packed bin).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REPO_DIR = join(PACKAGE_DIR, '..', '..');
/** protoc-gen-es and buf, from the repository's devDependencies. */
export const NODE_BIN = join(REPO_DIR, 'node_modules', '.bin');

/** A directory holding an executable `protoc-gen-rpcx-es`; remove it with `rmSync(dir, { recursive: true })`. */
export function pluginDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'protoc-gen-rpcx-es-'));
  const script = join(dir, 'protoc-gen-rpcx-es');
  // The plugin ignores its working directory; tsx resolves from the package's.
  writeFileSync(script, `#!/bin/sh\ncd '${PACKAGE_DIR}' && exec '${process.execPath}' --import tsx src/main.ts "$@"\n`);
  chmodSync(script, 0o755);
  return dir;
}

/** PATH with the plugin and the repository's tools first, as a user's shell would find them. */
export function pathWith(plugin: string): string {
  return [plugin, NODE_BIN, process.env.PATH].join(':');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell); resolves with its exit code and output. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** Like {@link run}, failing with the command's output unless it exits 0. */
export async function mustRun(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/**
 * protoc with protoc-gen-es and protoc-gen-rpcx-es, both with `opt`, writing into `out`.
 * `protos` are paths relative to `protoPath`.
 */
export function protoc(plugin: string, protoPath: string, protos: string[], out: string, opt: string, rpcxOpt = opt): Promise<string> {
  return mustRun(
    'protoc',
    [
      `-I${protoPath}`,
      `--plugin=protoc-gen-es=${join(NODE_BIN, 'protoc-gen-es')}`,
      `--es_out=${out}`,
      `--es_opt=${opt}`,
      `--plugin=protoc-gen-rpcx-es=${join(plugin, 'protoc-gen-rpcx-es')}`,
      `--rpcx-es_out=${out}`,
      `--rpcx-es_opt=${rpcxOpt}`,
      ...protos,
    ],
    { cwd: protoPath },
  );
}

/** `buf generate` in `cwd` with the plugin on PATH. */
export function bufGenerate(plugin: string, cwd: string, args: string[]): Promise<string> {
  return mustRun(join(NODE_BIN, 'buf'), ['generate', ...args], { cwd, env: { ...process.env, PATH: pathWith(plugin) } });
}

/** Every file under `dir`, by path relative to it, with its text. */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

/** The generator's version in a preamble, so that snapshots survive a release. */
export const withoutVersion = (text: string) => text.replace(/protoc-gen-rpcx-es v\S+/g, 'protoc-gen-rpcx-es vX');

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
