// Every input from the page is checked here before anything is called or written; a problem
// is an answer the page shows next to the field, never a throw.
import { jsonCodec } from '@rpcx/codec-json';
import { parseServerKey, splitHostPort } from '@rpcx/core';
import { CODECS, type CallRequest, type CodecName } from './calls.js';

/** A rejected input: what is wrong and which field of the form it is about. */
export interface Invalid {
  error: string;
  field?: string;
}

export type Checked<T> = { ok: true; value: T } | ({ ok: false } & Invalid);

const invalid = (error: string, field?: string): { ok: false } & Invalid => ({ ok: false, error, ...(field ? { field } : {}) });

/** Longest call timeout the page may ask for. */
const MAX_TIMEOUT_MS = 120_000;
/** Most calls one request may repeat. */
export const MAX_REPEAT = 10_000;
/** Service and method names: what Go's server accepts (no spaces or control characters). */
const NAME = /^[^\s\u0000-\u001f\u007f/]{1,200}$/;

const json = jsonCodec();

/** JSON text → value, integers beyond 2^53 kept exact (bigint), as `rpcx call` parses them. */
function parseJson(text: string): Checked<unknown> {
  try {
    return { ok: true, value: json.decode(Buffer.from(text, 'utf8')) };
  } catch (error) {
    return invalid((error as Error).message);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request body as JSON, an object. */
export function parseBody(text: string): Checked<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return invalid(`the request body is not JSON: ${(error as Error).message}`);
  }
  return isObject(body) ? { ok: true, value: body } : invalid('the request body must be a JSON object');
}

function checkServerKey(value: unknown, field: string): Checked<string> {
  if (typeof value !== 'string' || value === '') return invalid('a server key (network@address) is required', field);
  const notAKey = (why: string) => invalid(`${JSON.stringify(value)} is not a server key such as tcp@127.0.0.1:8972: ${why}`, field);
  if (!value.includes('@')) return notAKey('no network@ in front');
  try {
    const { network, address } = parseServerKey(value);
    if (network !== 'unix' && network !== 'memu') splitHostPort(address);
  } catch (error) {
    return notAKey((error as Error).message);
  }
  return { ok: true, value };
}

/** POST /api/call */
export function validateCall(body: Record<string, unknown>): Checked<CallRequest> {
  const { service, method, codec = 'msgpack', args = '', metadata = '', server = '', timeoutMs = 5000, repeat = 1 } = body;
  if (typeof service !== 'string' || !NAME.test(service)) return invalid('pick or type a service name (no spaces)', 'service');
  if (typeof method !== 'string' || !NAME.test(method)) return invalid('type a method name (no spaces), e.g. Mul', 'method');
  if (typeof codec !== 'string' || !(codec in CODECS)) return invalid(`unknown codec ${JSON.stringify(codec)}: msgpack, json or raw`, 'codec');
  if (typeof args !== 'string') return invalid('the arguments must be text', 'args');
  let parsedArgs: unknown = Buffer.from(args, 'utf8');
  if (codec !== 'raw') {
    const parsed = parseJson(args.trim() === '' ? '{}' : args);
    if (!parsed.ok) return invalid(`the arguments are not valid JSON: ${parsed.error}`, 'args');
    parsedArgs = parsed.value;
  }
  if (typeof metadata !== 'string') return invalid('the metadata must be text', 'metadata');
  const meta: Record<string, string> = {};
  if (metadata.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata);
    } catch (error) {
      return invalid(`the metadata is not valid JSON: ${(error as Error).message}`, 'metadata');
    }
    if (!isObject(parsed)) return invalid('the metadata must be a JSON object of strings, e.g. {"trace": "on"}', 'metadata');
    for (const [key, value] of Object.entries(parsed)) {
      if (key === '' || typeof value !== 'string') return invalid(`metadata ${JSON.stringify(key)}: every value must be a string`, 'metadata');
      meta[key] = value;
    }
  }
  let serverKey: string | undefined;
  if (server !== '') {
    const checked = checkServerKey(server, 'server');
    if (!checked.ok) return checked;
    serverKey = checked.value;
  }
  const timeout = Number(timeoutMs);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_MS) return invalid(`the timeout must be a whole number of ms from 1 to ${MAX_TIMEOUT_MS}`, 'timeoutMs');
  const times = Number(repeat);
  if (!Number.isInteger(times) || times < 1 || times > MAX_REPEAT) return invalid(`repeat must be a whole number from 1 to ${MAX_REPEAT}`, 'repeat');
  return {
    ok: true,
    value: { service, method, args: parsedArgs, metadata: meta, codec: codec as CodecName, ...(serverKey ? { server: serverKey } : {}), timeoutMs: timeout, repeat: times },
  };
}

export interface MetadataChange {
  service: string;
  server: string;
  changes: Record<string, string>;
}

/** POST /api/metadata: `state` (active | inactive) and/or `weight` (a whole number). */
export function validateMetadata(body: Record<string, unknown>): Checked<MetadataChange> {
  const { service, server, state, weight } = body;
  if (typeof service !== 'string' || !NAME.test(service)) return invalid('a service name is required', 'service');
  const key = checkServerKey(server, 'server');
  if (!key.ok) return key;
  const changes: Record<string, string> = {};
  if (state !== undefined) {
    if (state !== 'active' && state !== 'inactive') return invalid('state must be "active" or "inactive"', 'state');
    changes.state = state;
  }
  if (weight !== undefined) {
    const text = String(weight).trim();
    // Go reads weight with strconv.Atoi into an int: a whole number; below 1 makes no sense.
    if (!/^\d{1,9}$/.test(text) || Number(text) < 1) return invalid('the weight must be a whole number from 1 to 999999999', 'weight');
    changes.weight = String(Number(text));
  }
  if (Object.keys(changes).length === 0) return invalid('nothing to change: give state or weight');
  return { ok: true, value: { service, server: key.value, changes } };
}
