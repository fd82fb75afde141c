import { encodeQuery, parseQuery, parseQueryStrict, parseQueryWithError, queryEscape, queryGet, queryUnescape } from '@rpcx/core';

describe('URL-query metadata, as Go net/url', () => {
  test('queryEscape matches url.QueryEscape', () => {
    expect(queryEscape('a b&c=d/é~._-')).toBe('a+b%26c%3Dd%2F%C3%A9~._-');
    expect(queryUnescape('a+b%26c%3Dd%2F%C3%A9~._-')).toBe('a b&c=d/é~._-');
    expect(() => queryUnescape('%zz')).toThrow(URIError);
  });

  test('encodeQuery sorts keys and keeps multi-values in order (url.Values.Encode)', () => {
    expect(encodeQuery({ weight: '10', group: ['b', 'a'], calls: '1.50', 'a b': 'x y' })).toBe('a+b=x+y&calls=1.50&group=b&group=a&weight=10');
    expect(encodeQuery(new Map([['z', ['1']], ['y', ['2']]]))).toBe('y=2&z=1');
    expect(encodeQuery({})).toBe('');
  });

  test('parseQuery keeps every value and skips broken pairs', () => {
    const q = parseQuery('group=a&group=b&weight=10&bad=%zz&flag&state=active;x=1');
    expect(q.get('group')).toEqual(['a', 'b']);
    expect(q.get('weight')).toEqual(['10']);
    expect(q.has('bad')).toBe(false);
    expect(q.get('flag')).toEqual(['']);
    expect(q.has('state')).toBe(false); // Go rejects pairs with ';'
    expect(queryGet('latitude=39.9&longitude=116.3', 'longitude')).toBe('116.3');
    expect(queryGet('', 'x')).toBeUndefined();
  });

  test('parseQueryWithError gives the pairs that parse and Go url.ParseQuery\'s error', () => {
    expect(parseQueryWithError('a=1&a=2')).toEqual({ values: new Map([['a', ['1', '2']]]) });
    // Go keeps the first bad escape, but any `;` wins.
    expect(parseQueryWithError('a=1&b=%zz&c=%yy')).toEqual({ values: new Map([['a', ['1']]]), error: 'invalid URL escape "%zz"' });
    expect(parseQueryWithError('b=%zz&x;y&a=1')).toEqual({ values: new Map([['a', ['1']]]), error: 'invalid semicolon separator in query' });
    expect(parseQueryWithError('k=v&'.repeat(10_001))).toEqual({ values: new Map(), error: 'number of URL query parameters exceeded limit' });
    expect(parseQueryStrict('a=1&b=%zz')).toBeUndefined();
    expect(parseQueryStrict('a=1')).toEqual(new Map([['a', ['1']]]));
  });
});
