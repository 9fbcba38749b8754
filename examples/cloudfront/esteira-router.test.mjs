// Runs esteira-router.js as CloudFront would, with a stub KeyValueStore:
// the file is the function's source, so the test loads it as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

function load(keys) {
  const source = readFileSync(new URL('./esteira-router.js', import.meta.url), 'utf8');
  assert.match(source, /^import cf from 'cloudfront';$/m, 'the function imports the cloudfront module');
  const cf = {
    kvs: () => ({
      get: async (key) => {
        if (!(key in keys)) throw new Error('KeyNotFound');
        return keys[key];
      },
    }),
  };
  const body = source.replace(/^import cf from 'cloudfront';$/m, '') + '\nreturn handler;';
  return new Function('cf', body)(cf);
}

const request = (uri) => ({ request: { uri, method: 'GET', headers: {} } });

test('every path is served from the live release folder', async () => {
  const handler = load({ 'acme-www/site': '20261202T101500Z-3f9a1c' });
  for (const [uri, want] of [
    ['/', '/20261202T101500Z-3f9a1c/index.html'],
    ['/assets/app-1a2b.js', '/20261202T101500Z-3f9a1c/assets/app-1a2b.js'],
    ['/about/', '/20261202T101500Z-3f9a1c/about/index.html'],
    ['/about', '/20261202T101500Z-3f9a1c/about/index.html'],
    ['/v1.2/notes', '/20261202T101500Z-3f9a1c/v1.2/notes/index.html'],
  ]) {
    assert.equal((await handler(request(uri))).uri, want, uri);
  }
});

test('switching the pointer switches every path at once', async () => {
  const keys = { 'acme-www/site': 'R1' };
  const handler = load(keys);
  assert.equal((await handler(request('/app.js'))).uri, '/R1/app.js');
  keys['acme-www/site'] = 'R2';
  assert.equal((await handler(request('/app.js'))).uri, '/R2/app.js');
  assert.equal((await handler(request('/'))).uri, '/R2/index.html');
});

test('with no release live yet it answers 503 instead of guessing', async () => {
  const handler = load({});
  const res = await handler(request('/'));
  assert.equal(res.statusCode, 503);
});
