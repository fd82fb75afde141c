import { MetaKey, type Connection } from '@rpcx/core';
import type { Message } from '@rpcx/protocol';
import type { ServerCore } from '../connection.js';
import type { CallContext } from '../context.js';

const toError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** preReadRequest hooks; the first error, if any. */
export async function preRead(core: ServerCore, connection: Connection): Promise<Error | undefined> {
  try {
    for (const p of core.plugins.with('preReadRequest')) await p.preReadRequest(connection);
  } catch (err) {
    return toError(err);
  }
  return undefined;
}

/** postReadRequest hooks for a message built from an HTTP request; the first error, if any. */
export async function postRead(core: ServerCore, connection: Connection, req: Message): Promise<Error | undefined> {
  try {
    for (const p of core.plugins.with('postReadRequest')) await p.postReadRequest(connection, req, undefined);
  } catch (err) {
    return toError(err);
  }
  return undefined;
}

/** The server's auth function on the `__AUTH` token; the refusal, if any. */
export async function authorize(core: ServerCore, ctx: CallContext, req: Message): Promise<Error | undefined> {
  if (!core.auth) return undefined;
  try {
    await core.auth(ctx, req.metadata[MetaKey.Auth]);
  } catch (err) {
    return toError(err);
  }
  return undefined;
}

/** preHandleRequest hooks; errors are logged and ignored, as on the rpcx path. */
export async function preHandle(core: ServerCore, ctx: CallContext): Promise<void> {
  for (const p of core.plugins.with('preHandleRequest')) {
    try {
      await p.preHandleRequest(ctx);
    } catch (err) {
      core.logger.warn(`rpcx: preHandleRequest: ${toError(err).message}`);
    }
  }
}

/** pre- or postWriteResponse hooks; errors are logged and ignored. */
export async function writeHooks(
  core: ServerCore,
  hook: 'preWriteResponse' | 'postWriteResponse',
  ctx: CallContext,
  req: Message,
  res: Message | undefined,
  error: Error | undefined,
): Promise<void> {
  for (const p of core.plugins.with(hook)) {
    try {
      await p[hook](ctx, req, res, error);
    } catch (err) {
      core.logger.warn(`rpcx: ${hook}: ${toError(err).message}`);
    }
  }
}
