/**
 * Responses as Go's net/http writes them for Go rpcx's handlers: header values as bytes,
 * Content-Type sniffed when the handler set none, `http.Error`'s plain-text shape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { detectContentType } from './sniff.js';

/**
 * A header value as Node writes it: each char one byte (latin1), so `bytes` holds the raw
 * bytes of the value. Go turns CR and LF into spaces and trims the ends; other control
 * bytes, which Node refuses, become spaces too.
 */
export function rawHeaderValue(bytes: string): string {
  return bytes
    .replace(/[\r\n]/g, ' ')
    .replace(/^[ \t]+|[ \t]+$/g, '')
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' ');
}

/** A text (any Unicode) as a header value carrying its UTF-8 bytes, as Go sends it. */
export function textHeaderValue(text: string): string {
  return rawHeaderValue(Buffer.from(text, 'utf8').toString('latin1'));
}

/** The first value of a request header, as raw bytes in a latin1 string ('' when absent, as Go's `Header.Get`). */
export function rawHeader(req: IncomingMessage, name: string): string {
  return req.headersDistinct[name]?.[0] ?? '';
}

/** A header's bytes read as UTF-8 text, as Go's strings hold them. */
export function headerText(raw: string): string {
  return Buffer.from(raw, 'latin1').toString('utf8');
}

/** Send `body` with a Content-Length; with no Content-Type set, the one Go would sniff. */
export function send(res: ServerResponse, status: number, body?: Uint8Array): void {
  res.statusCode = status;
  if (body && body.length > 0) {
    if (!res.hasHeader('content-type')) res.setHeader('Content-Type', detectContentType(body));
    res.setHeader('Content-Length', body.length);
    res.end(body);
  } else {
    res.setHeader('Content-Length', 0);
    res.end();
  }
}

/** Go `http.Error`: the text and a newline as text/plain, not to be sniffed. */
export function httpError(res: ServerResponse, text: string, status: number): void {
  res.removeHeader('content-length');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  send(res, status, Buffer.from(text + '\n', 'utf8'));
}
