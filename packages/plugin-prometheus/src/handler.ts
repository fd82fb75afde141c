import type { IncomingMessage, ServerResponse } from 'node:http';
import { register as globalRegistry, type Registry } from 'prom-client';

/**
 * A plain Node HTTP handler that answers a Prometheus scrape with every metric of `registry`
 * (in its content type). Use it on any `http.Server`, in Express or Fastify (raw req/res), or
 * on the rpcx port: `httpGateway({ routes: { '/metrics': metricsHandler() } })`.
 * @param registry @default prom-client's global `register`
 */
export function metricsHandler(registry: Registry = globalRegistry): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (_req, res) => {
    const body = await registry.metrics();
    res.statusCode = 200;
    res.setHeader('Content-Type', registry.contentType);
    res.end(body);
  };
}
