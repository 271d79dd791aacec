// SSE conformance check: drives GET /api/flags/stream with the npm `eventsource` package
// (a WHATWG-compliant EventSource for Node that we did not write) and checks, event by
// event, every event type and field the stream documents.
//
// Run (from anywhere; nothing depends on the working directory or NODE_PATH):
//   (cd tools/npm && npm ci)        # once: installs the pinned packages
//   BASE_URL=http://127.0.0.1:8080 ADMIN_TOKEN=... USER_TOKEN=... node tests/sse/eventsource.mjs
//
// Env:
//   BASE_URL             gateway origin (a trailing "/" is stripped); SSE_HEARTBEAT_SECONDS=1
//   ADMIN_TOKEN          bearer token of an admin (toggles flags, sees admin flags)
//   USER_TOKEN           bearer token of a plain user
//   REVOKE_TOKEN         optional: bearer token of another user; this script logs it out to
//                        provoke the final `error` event
//   STALE_BASE_URL       optional: a gateway on the same database whose event log was pruned
//   STALE_LAST_EVENT_ID  optional: a Last-Event-ID before that pruned history
//                        (with STALE_BASE_URL: history_incomplete + flags_bulk_update)
//   SSE_TIMEOUT_MS       optional overall watchdog, default 30000
//
// The flags ui.public_flag (public), ui.user_flag (authenticated), ui.admin_flag (admin)
// and ui.only_this (public), all boolean, must exist; the Go test creates them. Nothing
// else may change flags on this gateway while the script runs (versions are compared).
//
// Module resolution: createRequire() anchored at tools/npm/package.json (located relative
// to this file), as tests/ofrep/conformance.mjs does: packages resolve from
// tools/npm/node_modules only. eventsource 4.x is used (5.x needs Node >= 22.12).
//
// Last-Event-ID: the package has no option for an initial Last-Event-ID, but it accepts a
// custom `fetch`; the explicit resume (a client that closed and later reopens) sets the
// header there. The package also resends Last-Event-ID by itself when a connection ends
// and it reconnects; that path is checked too, by ending the response body from inside
// the custom fetch (a dropped connection, as the package sees it).
//
// Output: one "ok - ..." / "not ok - ..." line per check, then "N passed, M failed"
// alone on the last line. Exit status 1 if any check failed.

import { createRequire } from 'node:module';
import { inspect } from 'node:util';

const require = createRequire(new URL('../../tools/npm/package.json', import.meta.url));
const { EventSource } = require('eventsource');
const esVersion = require('eventsource/package.json').version;

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
  return inspect(v, { depth: 5, breakLength: Infinity });
}
const streams = [];
function finish() {
  clearTimeout(watchdog);
  for (const s of streams) s.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

const timeoutMs = Number(process.env.SSE_TIMEOUT_MS || 30000);
const watchdog = setTimeout(() => {
  check(`finished within ${timeoutMs}ms`, false, 'watchdog fired; a stream or request hung');
  finish();
}, timeoutMs);

const baseUrl = (process.env.BASE_URL || '').replace(/\/+$/, '');
const adminToken = process.env.ADMIN_TOKEN || '';
const userToken = process.env.USER_TOKEN || '';
const revokeToken = process.env.REVOKE_TOKEN || '';
const staleUrl = (process.env.STALE_BASE_URL || '').replace(/\/+$/, '');
const staleLast = process.env.STALE_LAST_EVENT_ID || '';
if (!check('BASE_URL, ADMIN_TOKEN and USER_TOKEN are set', baseUrl !== '' && adminToken !== '' && userToken !== '')) finish();
console.log(`# eventsource ${esVersion}, node ${process.version}`);

const PUB = 'ui.public_flag';
const USR = 'ui.user_flag';
const ADM = 'ui.admin_flag';
const ONLY = 'ui.only_this';
const EVENT_TYPES = ['connected', 'reconnected', 'history_incomplete', 'flags_bulk_update', 'flag_update', 'heartbeat', 'error', 'message'];
const FLAG_TYPES = ['boolean', 'string', 'number', 'json', 'multivariate'];
const VISIBILITIES = ['public', 'authenticated', 'admin', 'internal'];
const KINDS = ['created', 'updated', 'deleted', 'override_set', 'override_deleted', 'hidden'];

// --- value predicates ---------------------------------------------------------------------
const isInt = (v) => Number.isSafeInteger(v);
const isPosInt = (v) => isInt(v) && v > 0;
const isStr = (v) => typeof v === 'string' && v !== '';
const isBool = (v) => typeof v === 'boolean';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
// A timestamp: RFC 3339 and within two minutes of this machine's clock (same host).
const isTime = (v) => typeof v === 'string' && RFC3339.test(v) && Math.abs(Date.parse(v) - Date.now()) < 120000;

// shape checks that obj has exactly the fields in spec (optional ones: name ending "?"),
// each satisfying its predicate; returns a list of problems.
function shape(obj, spec) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [`not an object: ${show(obj)}`];
  const problems = [];
  const known = new Set();
  for (const [k0, pred] of Object.entries(spec)) {
    const opt = k0.endsWith('?');
    const k = opt ? k0.slice(0, -1) : k0;
    known.add(k);
    if (!(k in obj)) {
      if (!opt) problems.push(`missing ${k}`);
      continue;
    }
    if (!pred(obj[k])) problems.push(`bad ${k}: ${show(obj[k])}`);
  }
  for (const k of Object.keys(obj)) if (!known.has(k)) problems.push(`unexpected field ${k}`);
  return problems;
}
const any = () => true;
const variantOk = (v) => shape(v, { id: isStr, weight: (w) => typeof w === 'number' }).length === 0;
const FLAG_STATE = {
  key: isStr,
  type: (v) => FLAG_TYPES.includes(v),
  enabled: isBool,
  value: any,
  default_value: any,
  variants: (v) => Array.isArray(v) && v.every(variantOk),
  visibility: (v) => VISIBILITIES.includes(v),
  version: isPosInt,
  archived: isBool,
  deleted: isBool,
};
const stateProblems = (st) => shape(st, FLAG_STATE);
function flagMapProblems(m) {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return [`flags is not an object: ${show(m)}`];
  const out = [];
  for (const [k, st] of Object.entries(m)) {
    for (const p of stateProblems(st)) out.push(`${k}: ${p}`);
    if (st && st.key !== k) out.push(`${k}: key field is ${show(st.key)}`);
    if (st && st.deleted) out.push(`${k}: deleted flag in the map`);
  }
  return out;
}
const SHAPES = {
  connected: { client_id: isStr, version: isPosInt, flags: (m) => flagMapProblems(m).length === 0, timestamp: isTime },
  reconnected: { client_id: isStr, version: isPosInt, events_replayed: (n) => isInt(n) && n >= 0, history_complete: isBool, timestamp: isTime },
  history_incomplete: { client_id: isStr, message: isStr, last_event_id: (n) => isInt(n) && n >= 0, current_version: isPosInt, timestamp: isTime },
  flags_bulk_update: { flags: (m) => flagMapProblems(m).length === 0, version: isPosInt, timestamp: isTime, 'reason?': isStr },
  flag_update: { flag: isStr, value: (st) => stateProblems(st).length === 0, version: isPosInt, timestamp: isTime, 'replayed?': (v) => v === true, kind: (k) => KINDS.includes(k) },
  heartbeat: { timestamp: isTime, version: isPosInt },
  error: { message: isStr, timestamp: isTime },
};
// checkShape: one check per event; the detail names every problem (with nested ones).
function checkShape(label, ev) {
  const spec = SHAPES[ev.type];
  let problems = shape(ev.data, spec);
  if (problems.some((p) => p.startsWith('bad flags') || p.startsWith('bad value'))) {
    problems = problems.concat(ev.type === 'flag_update' ? stateProblems(ev.data.value) : flagMapProblems(ev.data.flags));
  }
  return check(`${label}: ${ev.type} has exactly its documented fields, well typed`, problems.length === 0, problems.join('; '));
}
function checkId(label, ev, want) {
  return check(`${label}: ${ev.type} lastEventId is ${want === '' ? 'empty (no id:)' : `its version ${want}`}`, ev.lastEventId === want, `lastEventId ${show(ev.lastEventId)}`);
}

// --- a recorded EventSource ----------------------------------------------------------------
// Every event of the listed types is recorded in order, with its parsed data. The
// package's own connection errors (ErrorEvent, no data) arrive on the same "error" listener
// as the server's `error` events (MessageEvent with data); they are recorded as
// type "connection_error".
class Stream {
  constructor(label, url, { token, lastEventId, droppable } = {}) {
    this.label = label;
    this.events = [];
    this.cursor = 0;
    this.waiter = null;
    this.requests = []; // headers of each HTTP request the package made
    this.bodyEnders = [];
    streams.push(this);
    const self = this;
    this.es = new EventSource(url, {
      async fetch(input, init) {
        const headers = new Headers(init?.headers);
        if (token) headers.set('Authorization', `Bearer ${token}`);
        if (lastEventId !== undefined && self.requests.length === 0) headers.set('Last-Event-ID', lastEventId);
        self.requests.push({ lastEventId: headers.get('Last-Event-ID'), accept: headers.get('Accept') });
        // A reconnect waits until the test has made its changes, so that they are replayed
        // however slow this machine is (the package retries after 3 s).
        if (self.requests.length > 1 && self.gate) await self.gate;
        const res = await fetch(input, { ...init, headers });
        if (!droppable || !res.body) return res;
        // Hand the package a body this script can end at will: a dropped connection.
        const reader = res.body.getReader();
        let ctl;
        const body = new ReadableStream({
          start(c) { ctl = c; },
          async pull(c) {
            const r = await reader.read().catch(() => ({ done: true }));
            try {
              if (r.done) c.close();
              else c.enqueue(r.value);
            } catch { /* already ended */ }
          },
          cancel() { return reader.cancel().catch(() => {}); },
        });
        self.bodyEnders.push(() => {
          try { ctl.close(); } catch { /* already ended */ }
          reader.cancel().catch(() => {});
        });
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      },
    });
    for (const type of EVENT_TYPES) {
      this.es.addEventListener(type, (ev) => {
        if (typeof ev.data !== 'string') {
          this.push({ type: 'connection_error', message: ev.message, code: ev.code, readyState: this.es.readyState });
          return;
        }
        let data;
        let parseError;
        try { data = JSON.parse(ev.data); } catch (e) { parseError = String(e); }
        this.push({ type: ev.type, data, raw: ev.data, parseError, lastEventId: ev.lastEventId });
      });
    }
  }
  push(rec) {
    this.events.push(rec);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }
  // next resolves with the next recorded event whose type is not in skip, or null after ms.
  async next({ skip = ['heartbeat'], ms = 8000 } = {}) {
    const deadline = Date.now() + ms;
    for (;;) {
      while (this.cursor < this.events.length) {
        const ev = this.events[this.cursor++];
        if (!skip.includes(ev.type)) return ev;
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise((resolve) => {
        const t = setTimeout(() => { this.waiter = null; resolve(); }, left);
        this.waiter = () => { clearTimeout(t); resolve(); };
      });
    }
  }
  // expect: the next event (heartbeats skipped unless asked for) must be of this type.
  async expect(type, opts = {}) {
    const ev = await this.next(opts);
    check(`${this.label}: next event is ${type}`, ev !== null && ev.type === type,
      ev === null ? `nothing within ${opts.ms ?? 8000}ms` : `got ${ev.type} ${show(ev.data ?? ev)}`);
    return ev !== null && ev.type === type ? ev : null;
  }
  lastId() {
    for (let i = this.cursor - 1; i >= 0; i--) {
      const ev = this.events[i];
      if (ev.type !== 'connection_error' && ev.lastEventId) return ev.lastEventId;
    }
    return '';
  }
  drop() { for (const end of this.bodyEnders.splice(0)) end(); }
  close() { this.es.close(); }
}

// --- HTTP helpers ----------------------------------------------------------------------------
async function api(method, path, token) {
  const res = await fetch(baseUrl + path, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body;
  try { body = text ? JSON.parse(text) : undefined; } catch { body = text; }
  return { status: res.status, body };
}
async function toggle(key) {
  const r = await api('POST', `/api/admin/feature-flags/${encodeURIComponent(key)}/toggle`, adminToken);
  if (r.status !== 200) check(`toggle ${key} answers 200`, false, `${r.status} ${show(r.body)}`);
  return r;
}
async function currentVersion() {
  const r = await api('GET', '/api/flags/version');
  return r.body?.data?.version;
}
// waitVersion waits until the gateway has applied every change up to want, so that a
// stream opened next replays them rather than receiving some of them live.
async function waitVersion(want) {
  const deadline = Date.now() + 5000;
  let v;
  while (Date.now() < deadline) {
    v = await currentVersion();
    if (v >= want) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check(`gateway version reaches ${want}`, false, `still ${v}`);
}
const streamURL = (q = '') => `${baseUrl}/api/flags/stream${q}`;
const sorted = (o) => Object.keys(o ?? {}).sort();

// --- the flow ----------------------------------------------------------------------------------
// flagState tracks, per stream, each flag's state as the stream told it, to check that
// every flag_update is the next state of that flag.
function trackConnected(s, ev) { s.state = structuredClone(ev.data.flags); }

// checkUpdate checks one flag_update against the stream's view and returns its version.
function checkUpdate(s, ev, { key, replayed, prevVersion }) {
  const d = ev.data;
  checkShape(s.label, ev);
  check(`${s.label}: flag_update is for ${key}`, d.flag === key, `flag ${show(d.flag)}`);
  checkId(s.label, ev, String(d.version));
  check(`${s.label}: flag_update version ${d.version} > previous ${prevVersion}`, d.version > prevVersion);
  check(`${s.label}: flag_update value.key equals flag`, d.value?.key === d.flag);
  check(`${s.label}: toggle is kind "updated"`, d.kind === 'updated', `kind ${show(d.kind)}`);
  if (replayed) check(`${s.label}: replayed flag_update carries replayed: true`, d.replayed === true, `replayed ${show(d.replayed)}`);
  else check(`${s.label}: live flag_update has no replayed field`, !('replayed' in d), `replayed ${show(d.replayed)}`);
  const before = s.state?.[key];
  if (before) {
    check(`${s.label}: ${key} enabled flipped (${before.enabled} -> ${!before.enabled})`, d.value?.enabled === !before.enabled, `enabled ${show(d.value?.enabled)}`);
    check(`${s.label}: ${key} value.version grew past ${before.version}`, d.value?.version > before.version, `value.version ${show(d.value?.version)}`);
    check(`${s.label}: ${key} value.visibility unchanged (${before.visibility})`, d.value?.visibility === before.visibility, show(d.value?.visibility));
    check(`${s.label}: ${key} is neither archived nor deleted`, d.value?.archived === false && d.value?.deleted === false);
    s.state[key] = d.value;
  } else {
    check(`${s.label}: flag_update for a flag this stream knows`, false, `${key} not in the stream's state`);
  }
  return d.version;
}

// expectUpdates: the next flag_updates (heartbeats skipped) are for exactly keys, in order.
async function expectUpdates(s, keys, { replayed = false, after }) {
  let prev = after;
  const got = [];
  for (const key of keys) {
    const ev = await s.next();
    if (!check(`${s.label}: flag_update for ${key} arrives${replayed ? ' (replayed)' : ''}`, ev?.type === 'flag_update',
      ev === null ? 'nothing within 8000ms' : `got ${ev.type} ${show(ev.data ?? ev)}`)) return { ok: false, got, last: prev };
    got.push(ev.data.flag);
    if (ev.data.flag !== key) {
      check(`${s.label}: next flag_update is for ${key}`, false, `got ${ev.data.flag}: a change this stream must not see, or out of order`);
      return { ok: false, got, last: prev };
    }
    prev = checkUpdate(s, ev, { key, replayed, prevVersion: prev });
  }
  return { ok: true, got, last: prev };
}

async function connectedChecks(s, { mustHave, mustNot, visibilities, exact }) {
  const ev = await s.expect('connected');
  if (!ev) return null;
  checkShape(s.label, ev);
  checkId(s.label, ev, String(ev.data.version));
  const keys = sorted(ev.data.flags);
  if (exact) check(`${s.label}: connected flags are exactly ${exact.join(',')}`, show(keys) === show([...exact].sort()), show(keys));
  for (const k of mustHave ?? []) check(`${s.label}: connected flags include ${k}`, keys.includes(k), show(keys));
  for (const k of mustNot ?? []) check(`${s.label}: connected flags omit ${k}`, !keys.includes(k), show(keys));
  const vis = [...new Set(Object.values(ev.data.flags ?? {}).map((st) => st.visibility))].sort();
  if (visibilities) check(`${s.label}: connected visibilities within ${visibilities.join(',')}`, vis.every((v) => visibilities.includes(v)), show(vis));
  trackConnected(s, ev);
  return ev;
}

async function main() {
  // 1. Fresh connections: anonymous, user, admin (a positive control for the leak tests),
  //    and a ?flags= filtered one.
  const anon = new Stream('anonymous', streamURL());
  const user = new Stream('user', streamURL(), { token: userToken });
  const admin = new Stream('admin', streamURL(), { token: adminToken });
  const only = new Stream('filtered', streamURL(`?flags=${encodeURIComponent(ONLY)}`));
  const cA = await connectedChecks(anon, { mustHave: [PUB, ONLY], mustNot: [USR, ADM], visibilities: ['public'] });
  const cU = await connectedChecks(user, { mustHave: [PUB, ONLY, USR], mustNot: [ADM], visibilities: ['public', 'authenticated'] });
  const cM = await connectedChecks(admin, { mustHave: [PUB, ONLY, USR, ADM], visibilities: ['public', 'authenticated', 'admin'] });
  const cF = await connectedChecks(only, { exact: [ONLY] });
  if (!cA || !cU || !cM || !cF) return;
  check('the four connected events carry the same version (nothing changed between them)',
    new Set([cA, cU, cM, cF].map((e) => e.data.version)).size === 1, show([cA, cU, cM, cF].map((e) => e.data.version)));
  check('every stream got its own client_id', new Set([cA, cU, cM, cF].map((e) => e.data.client_id)).size === 4);
  check('requests carry Accept: text/event-stream and no Last-Event-ID on a fresh connection',
    [anon, user, admin, only].every((s) => s.requests[0]?.accept === 'text/event-stream' && s.requests[0]?.lastEventId === null),
    show([anon, user, admin, only].map((s) => s.requests)));

  // 2. Live changes: an admin flag, an authenticated one, then two public ones. Events are
  //    delivered in order, so each stream's sequence shows what it was (not) sent.
  const v0 = cA.data.version;
  for (const k of [ADM, USR, PUB, ONLY]) await toggle(k);
  const m = await expectUpdates(admin, [ADM, USR, PUB, ONLY], { after: v0 });
  await expectUpdates(user, [USR, PUB, ONLY], { after: v0 });
  const a = await expectUpdates(anon, [PUB, ONLY], { after: v0 });
  await expectUpdates(only, [ONLY], { after: v0 });
  check('leak: the admin flag change reached the admin stream (so it was broadcast) but not the anonymous or user stream',
    m.ok && m.got[0] === ADM && a.ok, show({ admin: m.got, anonymous: a.got }));

  // 3. Heartbeat: fields, id, version = the newest event id.
  const hb = await anon.expect('heartbeat', { skip: [], ms: 3000 });
  if (hb) {
    checkShape('anonymous', hb);
    checkId('anonymous', hb, String(hb.data.version));
    check('anonymous: heartbeat version is the newest event id', hb.data.version === m.last, `${hb.data.version} vs ${m.last}`);
  }
  const fhb = await only.expect('heartbeat', { skip: [], ms: 3000 });
  if (fhb) check('filtered: heartbeat version is the global version too', fhb.data.version === m.last, `${fhb.data.version} vs ${m.last}`);
  for (const s of [user, admin, only]) s.close();

  // 4. Explicit resume: close, three visible changes (plus an admin one) while away, then a
  //    new EventSource whose first request carries Last-Event-ID (set in the custom fetch).
  const lastA = anon.lastId();
  anon.close();
  check('anonymous: last id seen before closing is the heartbeat id', hb !== null && lastA === hb.lastEventId, show(lastA));
  for (const k of [PUB, ADM, ONLY, PUB]) await toggle(k);
  await waitVersion(Number(lastA) + 4);
  const res = new Stream('resumed', streamURL(), { lastEventId: lastA });
  res.state = anon.state;
  const rep = await expectUpdates(res, [PUB, ONLY, PUB], { replayed: true, after: Number(lastA) });
  const rc = await res.expect('reconnected');
  if (rc) {
    checkShape('resumed', rc);
    checkId('resumed', rc, String(rc.data.version));
    check('resumed: events_replayed equals the replayed flag_updates (3)', rc.data.events_replayed === 3 && rep.got.length === 3, `events_replayed ${rc.data.events_replayed}, received ${rep.got.length}`);
    check('resumed: history_complete is true', rc.data.history_complete === true);
    check('resumed: reconnected version is the newest event id; the admin change between was skipped',
      rc.data.version === rep.last && rep.last === Number(lastA) + 4, `${rc.data.version}, last replayed ${rep.last}, last seen ${lastA}`);
    check('resumed: the request carried our Last-Event-ID', res.requests[0]?.lastEventId === lastA, show(res.requests));
    // A change after the resume arrives live.
    await toggle(PUB);
    await expectUpdates(res, [PUB], { after: rc.data.version });
  }
  res.close();

  // 5. The package's own reconnect: the connection drops (the body ends); the package
  //    reconnects after its retry delay (3 s) and sends Last-Event-ID by itself.
  const drop = new Stream('auto-reconnect', streamURL(), { droppable: true });
  const cD = await connectedChecks(drop, { mustHave: [PUB, ONLY], mustNot: [USR, ADM], visibilities: ['public'] });
  if (cD) {
    const lastD = drop.lastId();
    let openGate;
    drop.gate = new Promise((resolve) => { openGate = resolve; });
    drop.drop();
    const ce = await drop.expect('connection_error', { ms: 3000 });
    if (ce) check('auto-reconnect: the package noticed the drop and is reconnecting (readyState CONNECTING)', ce.readyState === EventSource.CONNECTING, show(ce));
    for (const k of [ONLY, ADM, PUB]) await toggle(k);
    await waitVersion(Number(lastD) + 3);
    openGate();
    const rep2 = await expectUpdates(drop, [ONLY, PUB], { replayed: true, after: Number(lastD) });
    const rc2 = await drop.expect('reconnected');
    check('auto-reconnect: the package sent Last-Event-ID itself on its second request',
      drop.requests.length === 2 && drop.requests[1].lastEventId === lastD, show({ lastD, requests: drop.requests }));
    if (rc2) {
      checkShape('auto-reconnect', rc2);
      checkId('auto-reconnect', rc2, String(rc2.data.version));
      check('auto-reconnect: events_replayed equals the replayed flag_updates (2)', rc2.data.events_replayed === 2 && rep2.got.length === 2, `events_replayed ${rc2.data.events_replayed}, received ${rep2.got.length}`);
      check('auto-reconnect: history_complete is true', rc2.data.history_complete === true);
      check('auto-reconnect: a new client_id for the new connection', rc2.data.client_id !== cD.data.client_id);
      check('auto-reconnect: reconnected version is the newest event id', rc2.data.version === rep2.last && rep2.last === Number(lastD) + 3,
        `${rc2.data.version}, last replayed ${rep2.last}, last seen ${lastD}`);
    }
  }
  drop.close();

  // 6. The final error event: the stream's session is logged out; the next heartbeat's
  //    credential re-check ends the stream with `error` (no id), then the body ends.
  if (revokeToken) {
    const rv = new Stream('revoked', streamURL(), { token: revokeToken });
    const cR = await connectedChecks(rv, { mustHave: [PUB, ONLY, USR], mustNot: [ADM], visibilities: ['public', 'authenticated'] });
    if (cR) {
      const out = await api('POST', '/api/auth/logout', revokeToken);
      check('revoked: logout answers 204', out.status === 204, `${out.status} ${show(out.body)}`);
      const err = await rv.expect('error', { ms: 5000 });
      if (err) {
        checkShape('revoked', err);
        checkId('revoked', err, '');
        check('revoked: error message names the credentials', /credential/i.test(err.data.message), show(err.data.message));
        const end = await rv.expect('connection_error', { ms: 3000 });
        check('revoked: the stream ended after the error event (the package is about to retry)', end?.readyState === EventSource.CONNECTING, show(end));
      }
    }
    rv.close();
  } else {
    console.log('# REVOKE_TOKEN not set: the error event is not checked');
  }

  // 7. Pruned history: history_incomplete, then flags_bulk_update, then reconnected.
  if (staleUrl && staleLast) {
    const st = new Stream('stale', `${staleUrl}/api/flags/stream`, { lastEventId: staleLast });
    const hi = await st.expect('history_incomplete');
    if (hi) {
      checkShape('stale', hi);
      checkId('stale', hi, String(hi.data.current_version));
      check('stale: last_event_id echoes our Last-Event-ID', hi.data.last_event_id === Number(staleLast), show(hi.data.last_event_id));
      check('stale: current_version is after it', hi.data.current_version > Number(staleLast));
      const bulk = await st.expect('flags_bulk_update');
      if (bulk) {
        checkShape('stale', bulk);
        checkId('stale', bulk, String(bulk.data.version));
        check('stale: flags_bulk_update reason is history_incomplete', bulk.data.reason === 'history_incomplete', show(bulk.data.reason));
        check('stale: flags_bulk_update version is current_version', bulk.data.version === hi.data.current_version);
        const keys = sorted(bulk.data.flags);
        check('stale: flags_bulk_update has the public flags only (anonymous)', show(keys) === show([ONLY, PUB].sort()), show(keys));
      }
      const rc3 = await st.expect('reconnected');
      if (rc3) {
        checkShape('stale', rc3);
        checkId('stale', rc3, String(rc3.data.version));
        check('stale: reconnected says events_replayed 0, history_complete false',
          rc3.data.events_replayed === 0 && rc3.data.history_complete === false, show(rc3.data));
        check('stale: same client_id throughout the greeting', rc3.data.client_id === hi.data.client_id);
      }
    }
    st.close();
  } else {
    console.log('# STALE_BASE_URL / STALE_LAST_EVENT_ID not set: history_incomplete is not checked');
  }

  // Whole-run checks over everything the non-admin streams received.
  const nonAdmin = streams.filter((s) => s !== admin);
  const leaks = [];
  const badJSON = [];
  const unknown = [];
  for (const s of nonAdmin) {
    for (const ev of s.events) {
      if (ev.type === 'connection_error') continue;
      if (ev.parseError) badJSON.push(`${s.label}/${ev.type}: ${ev.raw}`);
      if (ev.type === 'message') unknown.push(`${s.label}: unnamed event ${ev.raw}`);
      if (ev.raw?.includes(ADM)) leaks.push(`${s.label}/${ev.type}`);
      if (s.label !== 'user' && s.label !== 'revoked' && ev.raw?.includes(USR)) leaks.push(`${s.label}/${ev.type} (${USR})`);
    }
  }
  check('no anonymous or user stream ever mentioned a flag above its level', leaks.length === 0, leaks.join(', '));
  check('every event data was one JSON object', badJSON.length === 0, badJSON.join('; '));
  check('every event was named (no default "message" events)', unknown.length === 0, unknown.join('; '));
  const unexpectedErr = streams.flatMap((s) => s.events.filter((e) => e.type === 'connection_error' && e.code !== undefined && e.code !== 200).map((e) => `${s.label}: ${show(e)}`));
  check('no connection was refused (no non-200 status)', unexpectedErr.length === 0, unexpectedErr.join('; '));
}

main().then(finish, (e) => {
  check('script ran without throwing', false, e?.stack ?? String(e));
  finish();
});
