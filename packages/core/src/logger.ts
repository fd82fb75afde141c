/**
 * The logger every `@rpcx` component writes to. Quiet by default. `console` fits as it is;
 * so does a pino logger (its methods take an optional object first, then the message).
 */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const noop = () => {};

/** Discards everything. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
