/**
 * The generator: for each proto service, TypeScript in the shape of protoc-gen-rpcx's Go stub
 * (github.com/rpcxio/protoc-gen-rpcx), over the messages protoc-gen-es generates.
 *
 * What Go fixes on the wire, and this file copies:
 * - the service path is the proto service name with its first letter upper-cased
 *   (`RegisterName("Greeter", …)`); the proto package is not part of it;
 * - a Go server registers each method under its Go name (first letter upper-cased), and so do
 *   we; our clients call that name. A Go client calls the name as written in the .proto, which
 *   differs when it starts in lower case (Go's own client and server then miss each other), so
 *   our servers register such a method under both names;
 * - every call is protobuf (serialize type 2), each method's args and reply its input and output
 *   message;
 * - streaming methods are unary calls (rpcx has no streams; the Go plugin ignores the flags).
 */
import { createRequire } from 'node:module';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import { createEcmaScriptPlugin, getComments, type GeneratedFile, type Schema } from '@bufbuild/protoplugin';

/** Which halves of each service to generate: plugin option `stubs=server`, `stubs=client`, or both (the default). */
export interface PluginOptions {
  server: boolean;
  client: boolean;
}

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The protoc-gen-rpcx-es plugin; `runNodeJs(protocGenRpcxEs)` runs it as protoc and buf do. */
export const protocGenRpcxEs = createEcmaScriptPlugin<PluginOptions>({
  name: 'protoc-gen-rpcx-es',
  version: `v${version}`,
  parseOptions,
  generateTs,
});

function parseOptions(raw: Array<{ key: string; value: string }>): PluginOptions {
  const options = { server: true, client: true };
  for (const { key, value } of raw) {
    if (key !== 'stubs') throw new Error(`unknown option "${key}" (protoc-gen-rpcx-es takes stubs=server|client|server+client)`);
    const parts = value.split('+');
    if (parts.some((part) => part !== 'server' && part !== 'client')) {
      throw new Error(`stubs=${value}: expected server, client or server+client`);
    }
    options.server = parts.includes('server');
    options.client = parts.includes('client');
  }
  return options;
}

/** Go's `upperFirstLatter`: the name Go gives a service or method. */
export function goName(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function generateTs(schema: Schema<PluginOptions>): void {
  for (const file of schema.files) {
    if (file.services.length === 0) continue;
    const f = schema.generateFile(`${file.name}_rpcx.ts`);
    f.preamble(file);
    for (const service of file.services) {
      generateService(f, service, schema.options);
    }
  }
}

function generateService(f: GeneratedFile, service: DescService, options: PluginOptions): void {
  const name = goName(service.name);
  const messageInit = f.import('MessageInitShape', '@bufbuild/protobuf', true);
  const methods = service.methods.map((method) => ({
    method,
    goName: goName(method.name),
    args: f.importSchema(method.input),
    reply: f.importSchema(method.output),
    argsShape: f.importShape(method.input),
    replyShape: f.importShape(method.output),
  }));

  f.print(f.jsDoc(`The rpcx service path of ${service.typeName} and the message types of each method, by Go method name.`));
  f.print(f.export('const', `${name}Service`), ' = {');
  f.print('  servicePath: ', f.string(name), ',');
  f.print('  schemas: {');
  for (const m of methods) f.print('    ', m.goName, ': { args: ', m.args, ', reply: ', m.reply, ' },');
  f.print('  },');
  f.print('} as const;');
  f.print();

  if (options.server) {
    const requestContext = f.import('RequestContext', '@rpcx/server', true);
    const server = f.import('Server', '@rpcx/server', true);
    const registerOptions = f.import('RegisterOptions', '@rpcx/server', true);
    f.print(
      f.jsDoc(
        serviceDoc(
          service,
          `What a ${name} implementation provides (Go: ${name}Able). A method returns the reply message\n` +
            'or an init object for it, or a Promise of either; a thrown error reaches the caller as its text.',
        ),
      ),
    );
    f.print(f.export('interface', `${name}Able`), ' {');
    for (const m of methods) {
      f.print(f.jsDoc(methodDoc(m.method), '  '));
      f.print('  ', m.goName, '(args: ', m.argsShape, ', ctx: ', requestContext, '): ', messageInit, '<typeof ', m.reply, '> | Promise<', messageInit, '<typeof ', m.reply, '>>;');
    }
    f.print('}');
    f.print();
    const aliases = methods.filter((m) => m.method.name !== m.goName).map((m) => m.method.name);
    f.print(
      f.jsDoc(
        `Registers \`impl\` on \`server\` as Go's ServeFor${name} does: service path ${JSON.stringify(name)}, each method\n` +
          'under its Go name, with the message types the protobuf codec needs.\n' +
          (aliases.length > 0 ? `Go clients call ${aliases.join(', ')} by the proto name: registered under that name too.\n` : '') +
          '`options` may set the registry `metadata` or another service `name`.',
      ),
    );
    f.print(f.export('function', `register${name}`), '(server: Pick<', server, ', "register">, impl: ', name, 'Able, options?: Omit<', registerOptions, ', "methods" | "schemas">): Promise<string> {');
    f.print('  return server.register(');
    f.print('    {');
    for (const m of methods) {
      f.print('      ', m.goName, ': (args: ', m.argsShape, ', ctx: ', requestContext, ') => impl.', m.goName, '(args, ctx),');
      if (m.method.name !== m.goName) f.print('      ', m.method.name, ': (args: ', m.argsShape, ', ctx: ', requestContext, ') => impl.', m.goName, '(args, ctx),');
    }
    f.print('    },');
    f.print('    {');
    f.print('      name: ', name, 'Service.servicePath,');
    f.print('      ...options,');
    f.print('      schemas: {');
    for (const m of methods) {
      f.print('        ', m.goName, ': ', name, 'Service.schemas.', m.goName, ',');
      if (m.method.name !== m.goName) f.print('        ', m.method.name, ': ', name, 'Service.schemas.', m.goName, ',');
    }
    f.print('      },');
    f.print('    },');
    f.print('  );');
    f.print('}');
    f.print();
  }

  if (options.client) {
    const callOptions = f.import('CallOptions', '@rpcx/xclient', true);
    const xclient = f.import('XClient', '@rpcx/xclient', true);
    const oneClient = f.import('OneClient', '@rpcx/xclient', true);
    f.print(
      f.jsDoc(
        serviceDoc(
          service,
          `Typed calls to the ${name} service (Go: ${name}Client, ${name}OneClient). Each call is protobuf\n` +
            "(serialize type 2) whatever the client's default; `options` are its per-call options.",
        ),
      ),
    );
    f.print(f.export('interface', `${name}Client`), ' {');
    for (const m of methods) {
      f.print(f.jsDoc(methodDoc(m.method), '  '));
      f.print('  ', m.goName, '(args: ', messageInit, '<typeof ', m.args, '>, options?: ', callOptions, '): Promise<', m.replyShape, '>;');
    }
    f.print('}');
    f.print();
    f.print(f.jsDoc(`Wraps an XClient whose \`servicePath\` is ${name}Service.servicePath (Go: New${name}Client).\nIts \`codecs\` must include the protobuf codec.`));
    f.print(f.export('function', `new${name}Client`), '(xclient: Pick<', xclient, ', "call">): ', name, 'Client {');
    f.print('  return {');
    for (const m of methods) {
      f.print('    ', m.goName, ': (args, options) =>');
      f.print('      xclient.call<', m.replyShape, '>(', f.string(m.goName), ', args, { ...options, serializeType: 2, schema: ', name, 'Service.schemas.', m.goName, ' }),');
    }
    f.print('  };');
    f.print('}');
    f.print();
    f.print(f.jsDoc(`Calls the ${name} service through a OneClient (Go: New${name}OneClient).\nIts \`codecs\` must include the protobuf codec.`));
    f.print(f.export('function', `new${name}OneClient`), '(oneClient: Pick<', oneClient, ', "call">): ', name, 'Client {');
    f.print('  return {');
    for (const m of methods) {
      f.print('    ', m.goName, ': (args, options) =>');
      f.print('      oneClient.call<', m.replyShape, '>(', name, 'Service.servicePath, ', f.string(m.goName), ', args, { ...options, serializeType: 2, schema: ', name, 'Service.schemas.', m.goName, ' }),');
    }
    f.print('  };');
    f.print('}');
    f.print();
  }
}

/** The service's own comments from the .proto, then `text`. */
function serviceDoc(service: DescService, text: string): string {
  return withComments(service, `${text}\n\n@generated from service ${service.typeName}`);
}

function methodDoc(method: DescMethod): string {
  const streaming =
    method.methodKind === 'unary' ? '' : `Declared ${method.methodKind.replace('_', ' ')}: rpcx has no streams, so this is one request and one reply,\nas in protoc-gen-rpcx's Go stub.\n\n`;
  return withComments(method, `${streaming}@generated from rpc ${method.parent.typeName}.${method.name}${method.deprecated ? '\n@deprecated' : ''}`);
}

function withComments(desc: DescService | DescMethod, text: string): string {
  const leading = getComments(desc).leading?.trim();
  if (!leading) return text;
  const comment = leading
    .split('\n')
    .map((line) => (line.startsWith(' ') ? line.slice(1) : line))
    .join('\n');
  return `${comment}\n\n${text}`;
}
