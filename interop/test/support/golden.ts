// The golden file captured from the real Go rpcx: `interop/go/bin/peer golden --out interop/fixtures/go-golden.json`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenPayload {
  name: string;
  kind: 'frame' | 'payload';
  hex: string;
  fields: { codec?: string; type?: string; value?: Record<string, unknown> } & Record<string, unknown>;
}

export const goldenFile = fileURLToPath(new URL('../../fixtures/go-golden.json', import.meta.url));

/** Payload vectors Go's codec `codec` produced, by name. */
export function goPayloads(codec: string): Map<string, Buffer> {
  const all = JSON.parse(readFileSync(goldenFile, 'utf8')) as GoldenPayload[];
  return new Map(all.filter((g) => g.kind === 'payload' && g.fields.codec === codec).map((g) => [g.name, Buffer.from(g.hex, 'hex')]));
}
