import { assertValidKey, assertValidPrefix, compareKeys, InvalidKeyError, isValidKey } from './object-key';

describe('assertValidKey', () => {
  it.each(['a', 'runs/r1/tiles/r0-c3.tile', 'a.b/c..d/...e', '.hidden/x', 'é/😀', 'a b/c?d#e', 'x'.repeat(1024)])(
    'accepts %j and returns it unchanged',
    (key) => {
      expect(assertValidKey(key)).toBe(key);
      expect(isValidKey(key)).toBe(true);
    },
  );

  it.each<[string, string]>([
    ['', 'empty'],
    ['/a', 'is absolute (starts with "/")'],
    ['a/../../x', 'has a ".." segment'],
    ['..', 'has a ".." segment'],
    ['a/./b', 'has a "." segment'],
    ['a\\b', 'contains a backslash'],
    ['a//b', 'has an empty segment ("//" or a trailing "/")'],
    ['a/', 'has an empty segment ("//" or a trailing "/")'],
    ['a\u0000', 'contains a control character (NUL included)'],
    ['a\nb', 'contains a control character (NUL included)'],
    ['é'.repeat(513), 'longer than 1024 bytes'],
    ['t/.fleet-tmp-abc-x', 'last segment starts with the reserved ".fleet-tmp-"'],
  ])('rejects %j: %s', (key, reason) => {
    expect(() => assertValidKey(key)).toThrow(new InvalidKeyError(key, reason));
    expect(() => assertValidKey(key)).toThrow(`invalid object key ${JSON.stringify(key)}: ${reason}`);
    expect(isValidKey(key)).toBe(false);
  });

  it('allows the temp marker on folders, where LocalStore never writes temp files', () => {
    expect(assertValidKey('.fleet-tmp-x/y')).toBe('.fleet-tmp-x/y');
  });
});

describe('assertValidPrefix', () => {
  it.each(['', 'a', 'a/', 'tiles/r0', 'tiles/r0/', 't/.fleet-tmp-'])('accepts %j', (prefix) => {
    expect(assertValidPrefix(prefix)).toBe(prefix);
  });

  it.each<[string, string]>([
    ['/', 'is absolute (starts with "/")'],
    ['../', 'has a ".." segment'],
    ['a//', 'has an empty segment ("//" or a trailing "/")'],
    ['a\\', 'contains a backslash'],
  ])('rejects %j: %s', (prefix, reason) => {
    expect(() => assertValidPrefix(prefix)).toThrow(`invalid object key ${JSON.stringify(prefix)}: ${reason}`);
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes, as S3 lists', () => {
    expect(['b', '\u{1F600}', '\uFF5E', 'a/b', 'a-b', 'B'].sort(compareKeys)).toEqual([
      'B',
      'a-b',
      'a/b',
      'b',
      '\uFF5E',
      '\u{1F600}',
    ]);
  });
});
