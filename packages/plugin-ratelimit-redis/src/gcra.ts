import { createHash } from 'node:crypto';

/**
 * GCRA in one Redis script, the algorithm and stored state of go-redis/redis_rate v10 (the
 * limiter of Go rpcx's `RedisRateLimitingPlugin`), so Go and TypeScript servers that use one
 * key draw from one limit. The key holds the theoretical arrival time (TAT): seconds since
 * 2017-01-01 UTC as a float (a Lua number, as Redis stores one), and expires when the bucket
 * would be full again. ARGV: burst, rate, period in seconds, cost. Returns
 * `{allowed, remaining, retry_after, reset_after}` with the two times in seconds as strings
 * (-1: no need to wait), as redis_rate's `allowN` does.
 */
export const GCRA_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])

local interval = period / rate
local clock = redis.call('TIME')
local now = (clock[1] - 1483228800) + clock[2] / 1000000

local tat = tonumber(redis.call('GET', key)) or now
if tat < now then tat = now end

local new_tat = tat + interval * cost
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, 0, tostring(allow_at - now), tostring(tat - now)}
end

local reset_after = new_tat - now
if reset_after > 0 then
  redis.call('SET', key, new_tat, 'EX', math.ceil(reset_after))
end
return {cost, math.floor((now - allow_at) / interval), '-1', tostring(reset_after)}
`;

export const GCRA_SHA1 = createHash('sha1').update(GCRA_SCRIPT).digest('hex');

/** What the script answered for one request. */
export interface GcraResult {
  /** The request may go ahead. */
  allowed: boolean;
  /** Requests that could go ahead right now after this one. */
  remaining: number;
  /** When a refused request could go ahead, in ms; -1 when allowed. */
  retryAfterMs: number;
  /** When the key is back to a full burst, in ms. */
  resetAfterMs: number;
}

const ms = (seconds: string): number => (seconds === '-1' ? -1 : Number(seconds) * 1000);

export function parseGcraReply(reply: unknown): GcraResult {
  const [allowed, remaining, retryAfter, resetAfter] = reply as [number, number, string, string];
  return { allowed: Number(allowed) > 0, remaining: Number(remaining), retryAfterMs: ms(retryAfter), resetAfterMs: ms(resetAfter) };
}
