// esteira-router: the CloudFront Function of a site that esteira releases
// with deploy-frontend --atomic. Runtime cloudfront-js-2.0, viewer request
// event, with the KeyValueStore that holds the live pointer associated.
//
// Each release lives in its own folder, <origin path>/<release id>/; the
// pointer (the key POINTER_KEY: deploy-frontend's --pointer-key, by default
// the site's bucket/prefix) names the live one. This function puts that
// folder in front of every request's path, so switching the pointer
// switches the whole site in one step: no visitor gets half a release, and
// each release has its own cache keys (the cache key is the rewritten
// path), so nothing needs invalidating.
import cf from 'cloudfront';

const kvs = cf.kvs();
const POINTER_KEY = 'acme-www/site'; // edit: the bucket/prefix (or --pointer-key) of your site

async function handler(event) {
  const request = event.request;
  let release;
  try {
    release = await kvs.get(POINTER_KEY);
  } catch (err) {
    // No release went live yet: there is nothing to serve.
    return { statusCode: 503, statusDescription: 'Service Unavailable' };
  }
  let uri = request.uri;
  if (uri.endsWith('/')) {
    uri += 'index.html';
  } else if (!uri.slice(uri.lastIndexOf('/') + 1).includes('.')) {
    uri += '/index.html'; // /about -> /about/index.html
  }
  request.uri = '/' + release + uri;
  return request;
}
