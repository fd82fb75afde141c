import { formatJson } from '../src/index.js';

describe('formatJson: a decoded value for people to read, as Go would print it', () => {
  test('64-bit integers exact, bytes as base64, maps and sets, times as RFC 3339, indented', () => {
    const value = new Map<unknown, unknown>([
      ['id', 9007199254740993n],
      ['raw', new Uint8Array([0, 1, 255])],
      ['tags', new Set(['a'])],
      ['at', new Date(Date.UTC(2026, 0, 2, 3, 4, 5))],
      [7, { skipped: undefined, empty: {} }],
    ]);
    expect(formatJson(value)).toBe(
      '{\n  "id": 9007199254740993,\n  "raw": "AAH/",\n  "tags": [\n    "a"\n  ],\n  "at": "2026-01-02T03:04:05.000Z",\n  "7": {\n    "empty": {}\n  }\n}',
    );
  });

  test('never throws where the codec refuses: NaN and Infinity print as null; one line without indent', () => {
    expect(formatJson({ a: [NaN, Infinity, 1.5, null, 'x'] }, '')).toBe('{"a":[null,null,1.5,null,"x"]}');
  });
});
