// The rpcx calls that hand out side-channel tokens, as Go rpcx v1.9.4 shapes them
// (share/share.go): args and replies are plain structs, so msgpack carries Go's field names
// (`FileName`) and JSON carries the json tags (`file_name`). Those two are the codecs Go can
// use here (the structs are not protobuf or thrift messages).
import { CodecError, ConfigError, SerializeType } from '@rpcx/core';

/** Go `share.SendFileServiceName`: the service path of file transfer. */
export const SEND_FILE_SERVICE_NAME = '_filetransfer';
/** Go `share.StreamServiceName`: the service path of the stream service. */
export const STREAM_SERVICE_NAME = '_streamservice';
/** Bytes of a token: the first thing a client writes on the side connection. */
export const TOKEN_LENGTH = 32;

/** Go `share.FileTransferArgs`: what an upload announces. */
export interface FileTransferArgs {
  /** Go `FileName`: the base name of the file (the client's choice; never trust it as a path). */
  fileName: string;
  /**
   * Go `FileSize`: the bytes that follow the token. -1 when the client did not know (a
   * `Readable` sent without `size`; Go clients always know).
   */
  fileSize: number;
  /** Go `Meta`. */
  meta: Record<string, string>;
}

/** Go `share.DownloadFileArgs`. */
export interface DownloadFileArgs {
  /** Go `FileName`: the name the client asked for. */
  fileName: string;
  meta: Record<string, string>;
}

/** Go `share.StreamServiceArgs`. */
export interface StreamServiceArgs {
  meta: Record<string, string>;
}

/** Go `share.FileTransferReply` / `share.StreamServiceReply`. */
export interface TokenReply {
  token: Uint8Array;
  /** `host:port` of the side listener to dial. */
  addr: string;
}

const isJson = (serializeType: number) => serializeType === SerializeType.JSON;

/** The serialize types the side-channel calls support: msgpack (Go's default) and JSON. */
export function checkSerializeType(serializeType: number): void {
  if (serializeType !== SerializeType.MsgPack && !isJson(serializeType)) {
    throw new ConfigError(`file transfer and streams use msgpack (3) or JSON (1), as Go rpcx can; got serialize type ${serializeType}`);
  }
}

// ---- client side: encode args, decode replies ----

export function encodeFileTransferArgs(args: FileTransferArgs, serializeType: number): Record<string, unknown> {
  return isJson(serializeType)
    ? { file_name: args.fileName, file_size: args.fileSize, meta: args.meta }
    : { FileName: args.fileName, FileSize: args.fileSize, Meta: args.meta };
}

export function encodeDownloadFileArgs(args: DownloadFileArgs, serializeType: number): Record<string, unknown> {
  return isJson(serializeType) ? { file_name: args.fileName, meta: args.meta } : { FileName: args.fileName, Meta: args.meta };
}

export function encodeStreamServiceArgs(args: StreamServiceArgs, serializeType: number): Record<string, unknown> {
  return isJson(serializeType) ? { meta: args.meta } : { Meta: args.meta };
}

/** A token reply from a Go or TS server: msgpack gives `Token` as bytes, JSON `token` as base64. */
export function decodeTokenReply(reply: unknown): TokenReply {
  const r = (reply ?? {}) as Record<string, unknown>;
  const rawToken = r.Token ?? r.token;
  const addr = r.Addr ?? r.addr;
  const token = typeof rawToken === 'string' ? Buffer.from(rawToken, 'base64') : rawToken;
  if (!(token instanceof Uint8Array) || token.length !== TOKEN_LENGTH || typeof addr !== 'string' || addr === '') {
    throw new CodecError(`side channel: the server's reply has no ${TOKEN_LENGTH}-byte token and address: ${describe(reply)}`);
  }
  return { token, addr };
}

// ---- server side: decode args, encode replies ----

/** Go matches JSON keys to the json tag; the Go field name is accepted too, for hand-written clients. */
function field(args: unknown, goName: string, jsonName: string): unknown {
  if (typeof args !== 'object' || args === null) return undefined;
  const o = args as Record<string, unknown>;
  return o[goName] ?? o[jsonName];
}

function meta(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [k, v] of value instanceof Map ? value.entries() : Object.entries(value)) out[String(k)] = String(v);
  return out;
}

function integer(value: unknown): number {
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

export function decodeFileTransferArgs(args: unknown): FileTransferArgs {
  return {
    fileName: String(field(args, 'FileName', 'file_name') ?? ''),
    fileSize: integer(field(args, 'FileSize', 'file_size')),
    meta: meta(field(args, 'Meta', 'meta')),
  };
}

export function decodeDownloadFileArgs(args: unknown): DownloadFileArgs {
  return { fileName: String(field(args, 'FileName', 'file_name') ?? ''), meta: meta(field(args, 'Meta', 'meta')) };
}

export function decodeStreamServiceArgs(args: unknown): StreamServiceArgs {
  return { meta: meta(field(args, 'Meta', 'meta')) };
}

/** The reply in the caller's codec: Go field names for msgpack, json tags for JSON (the codec writes bytes as base64). */
export function encodeTokenReply(reply: TokenReply, serializeType: number): Record<string, unknown> {
  const token = Buffer.from(reply.token.buffer, reply.token.byteOffset, reply.token.byteLength);
  return isJson(serializeType) ? { token, addr: reply.addr } : { Token: token, Addr: reply.addr };
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `<${v.length} bytes>` : v));
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return String(value);
  }
}
