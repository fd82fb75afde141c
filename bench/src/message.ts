// The rpcx-benchmark message (about 581 bytes in protobuf), shared with the Go peer's schema.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const proto = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'interop', 'go', 'proto', 'bench.proto');
export const BenchmarkMessage = protobuf.loadSync(proto).lookupType('rpcxinterop.BenchmarkMessage');

/** As rpcx-benchmark's PrepareArgs: every string the same text, ints 100000, bools true. */
export function benchmarkArgs(): Record<string, unknown> {
  const s = '许多往事在眼前一幕一幕，变的那麼模糊';
  const out: Record<string, unknown> = {};
  for (const field of BenchmarkMessage.fieldsArray) {
    if (field.repeated) continue;
    if (field.type === 'string') out[field.name] = s;
    else if (field.type === 'bool') out[field.name] = true;
    else if (field.type === 'int32' || field.type === 'int64') out[field.name] = 100000;
  }
  return out;
}

/** The benchmark message as protobuf bytes (581): the body of the raw-codec, limit and gRPC cells. */
export function benchmarkBytes(): Buffer {
  const bytes = BenchmarkMessage.encode(BenchmarkMessage.fromObject(benchmarkArgs())).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
