// OFREP conformance check: drives the gateway's /ofrep/v1 endpoints with the real,
// unmodified OpenFeature JavaScript SDKs and OFREP providers.
//
// Run (from anywhere; nothing depends on the working directory or NODE_PATH):
//   (cd tools/npm && npm ci)        # once: installs the pinned SDKs
//   OFREP_BASE_URL=http://127.0.0.1:8080 OFREP_TOKEN=<bearer token> node tests/ofrep/conformance.mjs
//
// Env:
//   OFREP_BASE_URL    gateway origin, without the /ofrep/v1 suffix (a trailing "/" is stripped)
//   OFREP_TOKEN       bearer token of a plain (non-admin) user
//   OFREP_TIMEOUT_MS  optional overall watchdog, default 30000
//
// Module resolution: the packages are loaded with createRequire() anchored at
// tools/npm/package.json, located relative to this file (import.meta.url), so they
// always resolve from tools/npm/node_modules. All of them are loaded through their
// CommonJS entry points so that each provider and its SDK share one module instance
// (mixing import() and require() would load two copies of @openfeature/server-sdk).
//
// Pinned packages (tools/npm/package.json):
//   @openfeature/server-sdk 1.23.0 + @openfeature/ofrep-provider 0.1.3 (its only release;
//     peer @openfeature/ofrep-core ^0.1.4, pinned at 0.1.4 in tools/npm)
//   @openfeature/web-sdk 1.10.0 + @openfeature/ofrep-web-provider 0.4.3 (bundles its own
//     @openfeature/ofrep-core 2.3.0); both SDKs peer on @openfeature/core 1.12.0
//
// The flags (ui.dark_mode, backend.rag_strategy, ops.max_upload_mb,
// integration.theme_config, admin.secret_switch) must exist before this runs; the Go
// test creates them.
//
// Output: one "ok - ..." / "not ok - ..." line per check, then "N passed, M failed"
// alone on the last line. Exit status 1 if any check failed.

import { createRequire } from 'node:module';
import { isDeepStrictEqual, inspect } from 'node:util';

const require = createRequire(new URL('../../tools/npm/package.json', import.meta.url));

let passed = 0;
let failed = 0;
function check(name, cond, detail) {
  if (cond) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`not ok - ${name}${detail === undefined ? '' : ` -- ${typeof detail === 'string' ? detail : show(detail)}`}`);
  }
  return cond;
}
function show(v) {
  return inspect(v, { depth: 4, breakLength: Infinity });
}
function finish() {
  clearTimeout(watchdog);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

const timeoutMs = Number(process.env.OFREP_TIMEOUT_MS || 30000);
const watchdog = setTimeout(() => {
  check(`finished within ${timeoutMs}ms`, false, 'watchdog fired; a provider or request hung');
  finish();
}, timeoutMs);

const baseUrl = (process.env.OFREP_BASE_URL || '').replace(/\/+$/, '');
const token = process.env.OFREP_TOKEN || '';
if (!check('OFREP_BASE_URL and OFREP_TOKEN are set', baseUrl !== '' && token !== '')) finish();

// --- record every HTTP exchange the providers make ------------------------------------
// Must be installed before any provider is constructed: ofrep-core binds globalThis.fetch
// when an OFREPApi instance is created.
const realFetch = globalThis.fetch;
/** @type {Array<{method:string,path:string,ifNoneMatch:string|null,authorization:string|null,contentType:string|null,status?:number,etag?:string|null,resContentType?:string|null,flagKeys?:string[],error?:string}>} */
const exchanges = [];
globalThis.fetch = async function recordingFetch(input, init) {
  // Read headers without consuming the Request's body.
  const isReq = typeof Request !== 'undefined' && input instanceof Request;
  const headers = isReq ? input.headers : new Headers(init?.headers);
  const url = new URL(isReq ? input.url : String(input));
  const ex = {
    method: (isReq ? input.method : init?.method) || 'GET',
    path: url.pathname,
    ifNoneMatch: headers.get('if-none-match'),
    authorization: headers.get('authorization'),
    contentType: headers.get('content-type'),
  };
  exchanges.push(ex);
  let res;
  try {
    res = await realFetch(input, init);
  } catch (err) {
    ex.error = String(err?.cause ?? err);
    throw err;
  }
  ex.status = res.status;
  ex.etag = res.headers.get('etag');
  ex.resContentType = res.headers.get('content-type');
  if (ex.path.endsWith('/ofrep/v1/evaluate/flags') && res.status === 200) {
    try {
      const body = await res.clone().json();
      ex.flagKeys = Array.isArray(body?.flags) ? body.flags.map((f) => f?.key) : undefined;
    } catch {
      /* the provider reports unparsable bodies itself */
    }
  }
  return res;
};

const BULK = '/ofrep/v1/evaluate/flags';
const SINGLE = '/ofrep/v1/evaluate/flags/';
const authHeader = [['Authorization', `Bearer ${token}`]];
const ctx = { targetingKey: 'user-1' };
const THEME = { primary: '#0055aa', density: 'compact' };

let serverSdk, OFREPProvider, webSdk, OFREPWebProvider;
try {
  serverSdk = require('@openfeature/server-sdk');
  ({ OFREPProvider } = require('@openfeature/ofrep-provider'));
  webSdk = require('@openfeature/web-sdk');
  ({ OFREPWebProvider } = require('@openfeature/ofrep-web-provider'));
  check('OpenFeature packages load from tools/npm/node_modules', true);
} catch (err) {
  check('OpenFeature packages load from tools/npm/node_modules', false, `${err.message} (run "npm ci" in tools/npm)`);
  finish();
}

// Compare the fields of an evaluation-details object that we care about.
function expectDetails(name, details, want) {
  const got = {};
  for (const k of Object.keys(want)) got[k] = details[k];
  check(name, isDeepStrictEqual(got, want), `got ${show(got)}, want ${show(want)}; full: ${show(details)}`);
}

// =====================================================================================
// 1. Server SDK + OFREP provider: single-flag endpoint POST /ofrep/v1/evaluate/flags/{key}
// =====================================================================================
async function serverPart() {
  const { OpenFeature } = serverSdk;
  const provider = new OFREPProvider({ baseUrl, headers: authHeader });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  check('server: provider READY', client.providerStatus === serverSdk.ProviderStatus.READY, client.providerStatus);

  const start = exchanges.length;

  const darkValue = await client.getBooleanValue('ui.dark_mode', false, ctx);
  check('server: getBooleanValue(ui.dark_mode) === true', darkValue === true, show(darkValue));
  const dark = await client.getBooleanDetails('ui.dark_mode', false, ctx);
  expectDetails('server: ui.dark_mode details (value true, reason STATIC, no error)', dark, {
    value: true,
    reason: 'STATIC',
    errorCode: undefined,
  });

  const rag = await client.getStringDetails('backend.rag_strategy', 'none', ctx);
  expectDetails('server: backend.rag_strategy -> "hybrid", variant hybrid, reason SPLIT', rag, {
    value: 'hybrid',
    variant: 'hybrid',
    reason: 'SPLIT',
    errorCode: undefined,
  });

  const upload = await client.getNumberDetails('ops.max_upload_mb', 0, ctx);
  expectDetails('server: getNumberValue(ops.max_upload_mb) === 25', upload, { value: 25, errorCode: undefined });

  const theme = await client.getObjectDetails('integration.theme_config', {}, ctx);
  expectDetails('server: getObjectValue(integration.theme_config) is the configured object', theme, {
    value: THEME,
    errorCode: undefined,
  });

  const missing = await client.getBooleanDetails('ui.no_such_flag', false, ctx);
  expectDetails('server: ui.no_such_flag -> default + FLAG_NOT_FOUND', missing, {
    value: false,
    reason: 'ERROR',
    errorCode: 'FLAG_NOT_FOUND',
  });

  const mismatch = await client.getNumberDetails('ui.dark_mode', 7, ctx);
  expectDetails('server: getNumberValue(ui.dark_mode, 7) -> 7 + TYPE_MISMATCH', mismatch, {
    value: 7,
    reason: 'ERROR',
    errorCode: 'TYPE_MISMATCH',
  });

  const secret = await client.getBooleanDetails('admin.secret_switch', false, ctx);
  expectDetails('server: admin.secret_switch (admin-only) -> default + FLAG_NOT_FOUND', secret, {
    value: false,
    reason: 'ERROR',
    errorCode: 'FLAG_NOT_FOUND',
  });

  const mine = exchanges.slice(start);
  check(
    'server: every evaluation used POST /ofrep/v1/evaluate/flags/{key} with the bearer token',
    mine.length >= 8 &&
      mine.every((e) => e.method === 'POST' && e.path.startsWith(SINGLE) && e.authorization === `Bearer ${token}`),
    mine,
  );
  const statusOf = (key) => mine.find((e) => e.path === SINGLE + key)?.status;
  check('server: HTTP 404 for ui.no_such_flag', statusOf('ui.no_such_flag') === 404, statusOf('ui.no_such_flag'));
  check('server: HTTP 404 for admin.secret_switch', statusOf('admin.secret_switch') === 404, statusOf('admin.secret_switch'));
  const ok200 = mine.filter((e) => e.status === 200);
  check(
    'server: 200 responses carry a JSON Content-Type',
    ok200.length > 0 && ok200.every((e) => /application\/[^+]*[+]?json/i.test(e.resContentType ?? '')),
    ok200.map((e) => e.resContentType),
  );

  // Bad credentials: the provider turns 401/403 into an exception; the SDK returns the
  // default with errorCode GENERAL (auth problems are not flag-level errors).
  const badStart = exchanges.length;
  await OpenFeature.setProviderAndWait(
    'ofrep-bad-token',
    new OFREPProvider({ baseUrl, headers: [['Authorization', 'Bearer not-a-valid-token']] }),
  );
  const bad = await OpenFeature.getClient('ofrep-bad-token').getBooleanDetails('ui.dark_mode', false, ctx);
  const badStatus = exchanges.slice(badStart).find((e) => e.path.startsWith(SINGLE))?.status;
  check('server: invalid token -> HTTP 401 or 403', badStatus === 401 || badStatus === 403, badStatus);
  expectDetails('server: invalid token -> default + GENERAL', bad, { value: false, reason: 'ERROR', errorCode: 'GENERAL' });

  await OpenFeature.close();
}

// =====================================================================================
// 2. Web SDK + OFREP web provider: bulk endpoint POST /ofrep/v1/evaluate/flags + ETag/304
// =====================================================================================
async function webPart() {
  const { OpenFeature, ProviderEvents, ProviderStatus } = webSdk;
  const provider = new OFREPWebProvider({
    baseUrl,
    // The web provider only accepts headers as [name, value] tuples (not an object).
    headers: authHeader,
    // Node 20 has no localStorage; the default 'local-cache-first' would silently fail to
    // persist. 'disabled' keeps every read coming from the network, which is what we test.
    cacheMode: 'disabled',
    // No polling: the re-fetch below is triggered explicitly with setContext.
    pollInterval: 0,
  });
  const client = OpenFeature.getClient();
  const events = [];
  for (const ev of [ProviderEvents.Error, ProviderEvents.Stale, ProviderEvents.ConfigurationChanged]) {
    client.addHandler(ev, (d) => events.push({ ev, message: d?.message }));
  }

  const start = exchanges.length;
  await OpenFeature.setContext(ctx);
  try {
    await OpenFeature.setProviderAndWait(provider);
  } catch (err) {
    check('web: provider initialised (bulk evaluation)', false, `${err?.name}: ${err?.message}; http: ${show(exchanges.slice(start))}`);
    await OpenFeature.close();
    return;
  }
  check('web: provider READY', client.providerStatus === ProviderStatus.READY, client.providerStatus);

  const initial = exchanges.slice(start);
  const firstBulk = initial.find((e) => e.path === BULK);
  check(
    'web: initial bulk POST /ofrep/v1/evaluate/flags -> 200 with an ETag, bearer token sent',
    !!firstBulk && firstBulk.method === 'POST' && firstBulk.status === 200 && !!firstBulk.etag &&
      firstBulk.authorization === `Bearer ${token}`,
    initial,
  );
  check('web: provider used only the bulk endpoint', initial.every((e) => e.path === BULK), initial.map((e) => e.path));
  const keys = firstBulk?.flagKeys ?? [];
  check(
    'web: bulk response contains the four visible flags',
    ['ui.dark_mode', 'backend.rag_strategy', 'ops.max_upload_mb', 'integration.theme_config'].every((k) => keys.includes(k)),
    keys,
  );
  check('web: bulk response omits admin.secret_switch', firstBulk !== undefined && !keys.includes('admin.secret_switch'), keys);

  const evaluateAll = (label) => {
    expectDetails(`web${label}: ui.dark_mode -> true, reason STATIC`, client.getBooleanDetails('ui.dark_mode', false), {
      value: true,
      reason: 'STATIC',
      errorCode: undefined,
    });
    expectDetails(
      `web${label}: backend.rag_strategy -> "hybrid", variant hybrid, reason SPLIT`,
      client.getStringDetails('backend.rag_strategy', 'none'),
      { value: 'hybrid', variant: 'hybrid', reason: 'SPLIT', errorCode: undefined },
    );
    expectDetails(`web${label}: ops.max_upload_mb -> 25`, client.getNumberDetails('ops.max_upload_mb', 0), {
      value: 25,
      errorCode: undefined,
    });
    expectDetails(
      `web${label}: integration.theme_config -> the configured object`,
      client.getObjectDetails('integration.theme_config', {}),
      { value: THEME, errorCode: undefined },
    );
  };
  evaluateAll('');
  expectDetails('web: ui.no_such_flag -> default + FLAG_NOT_FOUND', client.getBooleanDetails('ui.no_such_flag', false), {
    value: false,
    reason: 'ERROR',
    errorCode: 'FLAG_NOT_FOUND',
  });
  expectDetails('web: getNumberValue(ui.dark_mode, 7) -> 7 + TYPE_MISMATCH', client.getNumberDetails('ui.dark_mode', 7), {
    value: 7,
    reason: 'ERROR',
    errorCode: 'TYPE_MISMATCH',
  });
  expectDetails(
    'web: admin.secret_switch -> default + FLAG_NOT_FOUND',
    client.getBooleanDetails('admin.secret_switch', false),
    { value: false, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' },
  );

  // Re-fetch with the same context: the provider keeps its ETag (targetingKey unchanged)
  // and sends If-None-Match; the server must answer 304 with no body.
  const refetchStart = exchanges.length;
  await OpenFeature.setContext({ ...ctx });
  const refetch = exchanges.slice(refetchStart).filter((e) => e.path === BULK);
  check(
    'web: re-fetch sent If-None-Match equal to the ETag from the first response',
    refetch.some((e) => e.ifNoneMatch !== null && e.ifNoneMatch === firstBulk?.etag),
    { firstEtag: firstBulk?.etag, refetch },
  );
  check(
    'web: server answered the conditional bulk request with 304',
    refetch.some((e) => e.ifNoneMatch !== null && e.status === 304),
    refetch,
  );
  const allBulk = exchanges.slice(start).filter((e) => e.path === BULK);
  check(
    'web: at least one bulk request carried If-None-Match and got 304',
    allBulk.some((e) => e.ifNoneMatch && e.status === 304),
    allBulk,
  );
  check('web: provider still READY after 304', client.providerStatus === ProviderStatus.READY, client.providerStatus);
  evaluateAll(' after 304');
  const bad = events.filter((e) => e.ev !== ProviderEvents.ConfigurationChanged);
  check('web: no PROVIDER_ERROR / PROVIDER_STALE events', bad.length === 0, bad);

  await OpenFeature.close();

  // A stale/unknown ETag must not be answered with 304 (plain fetch, outside the providers).
  try {
    const res = await realFetch(`${baseUrl}${BULK}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        Authorization: `Bearer ${token}`,
        'If-None-Match': '"ofrep-conformance-stale-etag"',
      },
      body: JSON.stringify({ context: ctx }),
    });
    const body = res.status === 200 ? await res.json().catch(() => undefined) : undefined;
    check(
      'raw: bulk with a non-matching If-None-Match -> 200 with flags',
      res.status === 200 && Array.isArray(body?.flags),
      { status: res.status, body },
    );
  } catch (err) {
    check('raw: bulk with a non-matching If-None-Match -> 200 with flags', false, String(err?.cause ?? err));
  }
}

try {
  await serverPart();
} catch (err) {
  check('server SDK section ran without throwing', false, err?.stack ?? String(err));
}
try {
  await webPart();
} catch (err) {
  check('web SDK section ran without throwing', false, err?.stack ?? String(err));
}
finish();
