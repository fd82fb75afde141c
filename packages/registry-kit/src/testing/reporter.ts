/**
 * A `node:test` reporter that prints one JSON line per finished test, for a parent process
 * to read (`runNodeTestFile`). Use with `node --test-reporter=<this file>`.
 */
interface TestEvent {
  type: string;
  data: { name: string; nesting: number; details?: { duration_ms?: number; type?: string; error?: unknown } };
}

function describeError(error: unknown): string | undefined {
  if (!error) return undefined;
  const cause = (error as { cause?: unknown }).cause ?? error;
  return cause instanceof Error ? `${cause.message}\n${cause.stack ?? ''}` : String(cause);
}

export default async function* jsonLines(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, nesting, details } = event.data;
    yield `${JSON.stringify({
      rpcxTest: true,
      name,
      nesting,
      suite: details?.type === 'suite',
      ok: event.type === 'test:pass',
      durationMs: details?.duration_ms,
      error: event.type === 'test:fail' ? describeError(details?.error) : undefined,
    })}\n`;
  }
}
