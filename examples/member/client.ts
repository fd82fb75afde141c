// The member client: calls ServiceUser.UserInfo and the function ServiceUserFn.UserReply.
// `--fail-mode failtry` (the article's choice, default) retries the same server 3 more times
// when a call fails; `--fail-mode failfast` gives up at once. Stop the server and run the client
// to see the difference: each failed attempt is logged, then the call's error, as in Go.
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import type { ClientAttemptInterceptor } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, peer2peer } from '@rpcx/xclient';
import type { Reply, ServiceUserApi } from './service.js';

const { values } = parseArgs({
  options: {
    addr: { type: 'string', default: '127.0.0.1:8972' },
    'fail-mode': { type: 'string', default: 'failtry' },
  },
});
const failModes: Record<string, FailMode> = { failtry: FailMode.Failtry, failfast: FailMode.Failfast };
const failMode = failModes[values['fail-mode']!];
if (failMode === undefined) throw new Error(`--fail-mode is failtry or failfast, not ${values['fail-mode']}`);

// Each request to the server, retries included: log the ones that fail (Go logs a WARN per failed dial).
const logFailedAttempts: ClientAttemptInterceptor = (next) => async (attempt) => {
  try {
    return await next(attempt);
  } catch (err) {
    console.log(`attempt ${attempt.attempt} on ${attempt.server} failed: ${(err as Error).message}`);
    throw err;
  }
};

const common = {
  failMode,
  retries: 3, // Go's DefaultOption.Retries
  discovery: peer2peer(`tcp@${values.addr}`),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
  interceptors: [{ attempts: logFailedAttempts }],
};

const users = new XClient({ servicePath: 'ServiceUser', ...common });
const fn = new XClient({ servicePath: 'ServiceUserFn', ...common });
try {
  const info = await users.typed<ServiceUserApi>().UserInfo({ Uid: 999 });
  console.log('999 :', info);
  const reply = await fn.call<Reply>('UserReply', { Uid: 888 });
  console.log('888 :', reply);
} catch (err) {
  console.log(`failed to call: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await Promise.all([users.close(), fn.close()]);
}
