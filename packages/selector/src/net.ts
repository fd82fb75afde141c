// The TCP probe of the network-quality selector (package import `#net`): node:net on Node;
// src/net-browser.ts takes its place in browser builds.
export { connect, isIP, type NetConnectOpts } from 'node:net';
