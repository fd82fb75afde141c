import { ConfigError } from './errors.js';

/**
 * `defaults` with each option of `options` that is given, checked to be a positive safe
 * integer: the decoding limits of the codecs and the like. A bad value is a ConfigError
 * `<owner>: <key> must be a positive integer, got <value>`, raised when the component is
 * made, not at its first use.
 */
export function positiveIntegerOptions<K extends string>(
  owner: string,
  defaults: Readonly<Record<K, number>>,
  options: Partial<Record<K, number>>,
): Record<K, number> {
  const out: Record<K, number> = { ...defaults };
  for (const key of Object.keys(defaults) as K[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${owner}: ${key} must be a positive integer, got ${value}`);
    out[key] = value;
  }
  return out;
}
