// Test-page stand-in for `node:zlib` (gzip in @rpcx/protocol) and `node:net` (the TCP probe
// of @rpcx/selector's network-quality selector): neither is reached by a plain call.
const unavailable = (name: string) => () => {
  throw new Error(`${name} is not available in the browser`);
};
export const gzipSync = unavailable('gzip');
export const gunzipSync = unavailable('gunzip');
export const connect = unavailable('net.connect');
export const isIP = unavailable('net.isIP');
