/**
 * @packageDocumentation
 * Shared contracts of `@rpcx`. Every other package builds on these types; this one depends on
 * nothing. Codecs, transports, discoveries, selectors, breakers and plugins from any package
 * (yours included) fit together through the interfaces here.
 *
 * @module @rpcx/core
 */
export * from './constants.js';
export * from './errors.js';
export * from './address.js';
export * from './metadata.js';
export * from './codec.js';
export * from './message.js';
export * from './transport.js';
export * from './context.js';
export * from './discovery.js';
export * from './selector.js';
export * from './breaker.js';
export * from './plugins.js';
export * from './server-interceptor.js';
export * from './client-interceptor.js';
export * from './lifecycle.js';
export * from './logger.js';
export * from './options.js';
