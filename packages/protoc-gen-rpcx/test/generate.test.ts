// The generator run by protoc and by buf, as users run it: its output is the reviewed snapshot,
// compiles under tsc --strict (and stricter flags) for every target, and its options work.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { PACKAGE_DIR, bufGenerate, pluginDir, protoc, readTree, removeDir, run, withoutVersion } from './support/generate.js';

const PROTO_DIR = join(PACKAGE_DIR, 'test', 'proto');
const SNAPSHOT_DIR = join(PACKAGE_DIR, 'test', 'snapshots');

/** Each test starts protoc or buf and the plugin (a Node process) at least once: generous on a loaded machine. */
const TIMEOUT_MS = 120_000;

let plugin: string;
/** Output directories, inside the package so the generated imports resolve from its node_modules. */
let scratch: string;
beforeAll(() => {
  plugin = pluginDir();
  mkdirSync(join(PACKAGE_DIR, 'test', '.generated'), { recursive: true });
  scratch = mkdtempSync(join(PACKAGE_DIR, 'test', '.generated', 'run-'));
});
afterAll(() => {
  removeDir(plugin);
  removeDir(scratch);
});

const outDir = (name: string) => {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/**
 * tsc's diagnostics for `files` under --strict, NodeNext and the stricter flags users turn on
 * (errors under --strict alone are a subset). Only `files` are checked, not the @rpcx sources
 * they import.
 */
function typeErrors(files: string[]): string[] {
  const program = ts.createProgram(files, {
    strict: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    noImplicitReturns: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noPropertyAccessFromIndexSignature: true,
    verbatimModuleSyntax: true,
    isolatedModules: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  return [...program.getOptionsDiagnostics(), ...files.flatMap((file) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file)))].map(
    (d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
  );
}

describe('protoc-gen-rpcx-es', () => {
  test('protoc writes the reviewed snapshot (test/snapshots/greeter_rpcx.ts)', async () => {
    const out = outDir('protoc');
    await protoc(plugin, PROTO_DIR, ['greeter.proto'], out, 'target=ts,import_extension=js');
    const generated = readTree(out);
    expect([...generated.keys()]).toEqual(['greeter_pb.ts', 'greeter_rpcx.ts']);
    expect(withoutVersion(generated.get('greeter_rpcx.ts')!)).toBe(withoutVersion(readFileSync(join(SNAPSHOT_DIR, 'greeter_rpcx.ts'), 'utf8')));
    expect(generated.get('greeter_pb.ts')).toBe(readFileSync(join(SNAPSHOT_DIR, 'greeter_pb.ts'), 'utf8'));
  }, TIMEOUT_MS);

  test('buf generate with a buf.gen.yaml writes the same files', async () => {
    const out = outDir('buf');
    const template = join(out, 'buf.gen.yaml');
    writeFileSync(
      template,
      [
        'version: v2',
        'plugins:',
        '  - local: protoc-gen-es',
        `    out: ${out}`,
        '    opt: [target=ts, import_extension=js]',
        '  - local: protoc-gen-rpcx-es',
        `    out: ${out}`,
        '    opt: [target=ts, import_extension=js]',
        '',
      ].join('\n'),
    );
    await bufGenerate(plugin, PROTO_DIR, ['--template', template, '--path', 'greeter.proto']);
    expect(withoutVersion(readFileSync(join(out, 'greeter_rpcx.ts'), 'utf8'))).toBe(
      withoutVersion(readFileSync(join(SNAPSHOT_DIR, 'greeter_rpcx.ts'), 'utf8')),
    );
  }, TIMEOUT_MS);

  test('the output compiles under tsc --strict and stricter flags: cross-file, well-known types, streaming, two services', async () => {
    const out = outDir('strict');
    await protoc(plugin, join(PROTO_DIR, 'rich'), ['common.proto', 'store.proto', 'nopackage.proto'], out, 'target=ts,import_extension=js');
    // No services, no _rpcx file.
    expect([...readTree(out).keys()].sort()).toEqual(['common_pb.ts', 'nopackage_pb.ts', 'store_pb.ts', 'store_rpcx.ts']);
    const stubs = readFileSync(join(out, 'store_rpcx.ts'), 'utf8');
    expect(stubs).toContain('export function registerStore(');
    expect(stubs).toContain('export function newAdminOneClient(');
    expect(stubs).toContain('Declared server streaming: rpcx has no streams');
    expect(stubs).toContain('@deprecated');
    const files = ['common_pb.ts', 'store_pb.ts', 'store_rpcx.ts'].map((name) => join(out, name));
    expect(typeErrors(files)).toEqual([]);
  }, TIMEOUT_MS);

  test('target=js+dts: JavaScript with no runtime import of @rpcx, and declarations that compile', async () => {
    const out = outDir('js');
    await protoc(plugin, join(PROTO_DIR, 'rich'), ['common.proto', 'store.proto'], out, 'target=js+dts,import_extension=js');
    const js = readFileSync(join(out, 'store_rpcx.js'), 'utf8');
    // The stubs only call the server and client they are given: a client-only app needs no
    // @rpcx/server at run time, and the reverse.
    expect(js).not.toMatch(/from\s+["']@rpcx\//);
    expect(js).toMatch(/import \{[^}]*ItemSchema[^}]*\} from "\.\/store_pb\.js"/);
    expect(js).toContain('serializeType: 2');
    expect(typeErrors(['common_pb.d.ts', 'store_pb.d.ts', 'store_rpcx.d.ts'].map((name) => join(out, name)))).toEqual([]);
  }, TIMEOUT_MS);

  test('stubs=client leaves out the server half, and needs no @rpcx/server for its types', async () => {
    const out = outDir('client-only');
    await protoc(plugin, PROTO_DIR, ['greeter.proto'], out, 'target=ts,import_extension=js', 'target=ts,import_extension=js,stubs=client');
    const stubs = readFileSync(join(out, 'greeter_rpcx.ts'), 'utf8');
    expect(stubs).toContain('export function newGreeterClient(');
    expect(stubs).not.toContain('registerGreeter');
    expect(stubs).not.toContain('@rpcx/server');
    const serverOnly = outDir('server-only');
    await protoc(plugin, PROTO_DIR, ['greeter.proto'], serverOnly, 'target=ts,import_extension=js', 'target=ts,import_extension=js,stubs=server');
    const server = readFileSync(join(serverOnly, 'greeter_rpcx.ts'), 'utf8');
    expect(server).toContain('export function registerGreeter(');
    expect(server).not.toContain('@rpcx/xclient');
    expect(typeErrors([join(out, 'greeter_pb.ts'), join(out, 'greeter_rpcx.ts'), join(serverOnly, 'greeter_rpcx.ts')])).toEqual([]);
  }, TIMEOUT_MS);

  test('an unknown option fails the run with the plugin\'s message', async () => {
    const out = outDir('bad-option');
    for (const [opt, message] of [
      ['target=ts,colour=blue', 'unknown option "colour"'],
      ['target=ts,stubs=both', 'stubs=both: expected server, client or server+client'],
    ]) {
      const result = await run(
        'protoc',
        [`-I${PROTO_DIR}`, `--plugin=protoc-gen-rpcx-es=${join(plugin, 'protoc-gen-rpcx-es')}`, `--rpcx-es_out=${out}`, `--rpcx-es_opt=${opt}`, 'greeter.proto'],
        { cwd: PROTO_DIR },
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(message);
    }
  }, TIMEOUT_MS);
});
