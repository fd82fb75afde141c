// The console's page: lit-html templates over the state the console server pushes (Server-Sent
// Events on /api/events) and answers (/api/*). Three views, chosen by the URL's hash:
// #/ services, #/server/<key> one server, #/call a call form. Everything shown from the
// registry goes through lit-html, which escapes it.
import { html, nothing, render, svg, type TemplateResult } from 'lit-html';

interface ServiceEntry {
  key: string;
  value: string;
}
interface Snapshot {
  label: string;
  kind: 'registry' | 'server';
  writable: boolean;
  services: { name: string; servers: ServiceEntry[] }[];
  servers: string[];
  error?: string;
  reportedCalls: Record<string, [number, number][]>;
}
interface CallStats {
  seconds: [number, number, number][];
}
type CallResult =
  | {
      ok: true;
      reply: string;
      responseMetadata: Record<string, string>;
      server?: string;
      latencyMs: number;
      calls: number;
      failed: number;
      p50Ms: number;
      p99Ms: number;
      callsPerSecond: number;
      firstError?: string;
    }
  | { ok: false; error: string; code?: string; latencyMs: number };

const TOKEN_KEY = 'rpcx-ui-token';

const state = {
  snapshot: undefined as Snapshot | undefined,
  calls: { seconds: [] } as CallStats,
  live: false,
  needsToken: false,
  /** Per server key: the last message of an action on it (error or done). */
  actionMessage: new Map<string, { text: string; bad: boolean }>(),
  call: {
    service: '',
    method: '',
    server: '',
    codec: 'msgpack',
    args: '{}',
    metadata: '',
    timeoutMs: '5000',
    repeat: '1',
    busy: false,
    result: undefined as CallResult | undefined,
    /** A rejected input: the server's message and the field it is about. */
    invalid: undefined as { error: string; field?: string } | undefined,
  },
};

const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';
const authHeaders = (): Record<string, string> => (token() ? { Authorization: `Bearer ${token()}` } : {});

async function post<T>(path: string, body: unknown): Promise<{ status: number; data: T }> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) });
  if (res.status === 401) {
    state.needsToken = true;
    update();
  }
  const data = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as T;
  return { status: res.status, data };
}

/** Follow /api/events (fetch, so the token can go in a header) for as long as the page lives. */
async function follow(): Promise<void> {
  for (;;) {
    try {
      const res = await fetch('/api/events', { headers: authHeaders() });
      if (res.status === 401) {
        state.needsToken = true;
        state.live = false;
        update();
        await waitForToken();
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      state.live = true;
      update();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          onFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // The console went away or the network blinked: try again shortly.
    }
    state.live = false;
    update();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function onFrame(frame: string): void {
  let event = 'message';
  let data = '';
  for (const line of frame.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!data) return;
  if (event === 'estate') state.snapshot = JSON.parse(data) as Snapshot;
  else if (event === 'calls') state.calls = JSON.parse(data) as CallStats;
  update();
}

let tokenEntered: (() => void) | undefined;
const waitForToken = () => new Promise<void>((resolve) => (tokenEntered = resolve));

/** The metadata of a server entry as a map (URL query, as Go writes it). */
function meta(value: string): URLSearchParams {
  try {
    return new URLSearchParams(value);
  } catch {
    return new URLSearchParams();
  }
}

const isInactive = (value: string) => meta(value).get('state') === 'inactive';

// ---- views ----

function header(): TemplateResult {
  const s = state.snapshot;
  return html`<header>
    <h1>rpcx ui</h1>
    <nav><a href="#/">Services</a><a href="#/call">Call</a></nav>
    <span class="target" data-test="target">${s?.label ?? ''}</span>
    <span class="live ${state.live ? 'on' : 'off'}" data-test="live">${state.live ? 'live' : 'reconnecting…'}</span>
  </header>`;
}

function tokenForm(): TemplateResult {
  const submit = (e: Event) => {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement;
    sessionStorage.setItem(TOKEN_KEY, input.value);
    state.needsToken = false;
    tokenEntered?.();
    update();
  };
  return html`<section class="page">
    <h2>This console needs its token</h2>
    <p class="note">It was started with <code>--auth</code>. The token stays in this tab only.</p>
    <form @submit=${submit} data-test="token-form"><input name="token" type="password" autocomplete="off" required /> <button class="primary">Open</button></form>
  </section>`;
}

function servicesView(s: Snapshot): TemplateResult {
  const servers = s.servers.length;
  if (s.kind === 'server') {
    return html`<section>
      <h2>Server <small>a direct address: no registry lists its services</small></h2>
      <p><a class="mono" href=${`#/server/${encodeURIComponent(s.label)}`}>${s.label}</a></p>
      <p class="note">Name the service and method on the <a href=${`#/call?server=${encodeURIComponent(s.label)}`}>call page</a>.</p>
    </section>`;
  }
  return html`<section>
    <h2>Services <small data-test="counts">${s.services.length} services, ${servers} servers</small></h2>
    ${s.error ? html`<p class="banner" role="alert">${s.error}</p>` : nothing}
    ${s.services.length === 0 ? html`<p class="note">No service is registered under ${s.label}.</p>` : nothing}
    ${s.services.map(
      (service) => html`<div class="service" data-service=${service.name}>
        <h3>${service.name} <small>${service.servers.length} ${service.servers.length === 1 ? 'server' : 'servers'}</small>
          <small><a href=${`#/call?service=${encodeURIComponent(service.name)}`}>call</a></small></h3>
        ${service.servers.length === 0 ? html`<p class="note">no server</p>` : serverTable(service.servers, (e) => html`<a class="mono" href=${`#/server/${encodeURIComponent(e.key)}`}>${e.key}</a>`)}
      </div>`,
    )}
  </section>`;
}

function serverTable(entries: ServiceEntry[], first: (e: ServiceEntry) => TemplateResult | string, actions?: (e: ServiceEntry) => TemplateResult): TemplateResult {
  return html`<table>
    <thead><tr><th>${actions ? 'Service' : 'Server'}</th><th>weight</th><th>group</th><th>state</th><th>calls/s</th><th>version</th><th>metadata</th>${actions ? html`<th>actions</th>` : nothing}</tr></thead>
    <tbody>
      ${entries.map((e) => {
        const m = meta(e.value);
        const st = m.get('state') ?? '';
        return html`<tr class=${isInactive(e.value) ? 'inactive' : ''} data-server=${e.key}>
          <td class="key">${first(e)}</td>
          <td data-test="weight">${m.get('weight') ?? ''}</td>
          <td>${m.getAll('group').join(', ')}</td>
          <td data-test="state" class=${st ? `state-${st}` : ''}>${st || 'active'}</td>
          <td>${m.get('calls') ?? ''}</td>
          <td>${m.get('version') ?? ''}</td>
          <td class="mono" title=${e.value}>${e.value}</td>
          ${actions ? html`<td class="actions">${actions(e)}</td>` : nothing}
        </tr>`;
      })}
    </tbody>
  </table>`;
}

function serverView(s: Snapshot, key: string): TemplateResult {
  const entries = s.services.flatMap((service) => service.servers.filter((e) => e.key === key).map((e) => ({ service: service.name, ...e })));
  const known = s.servers.includes(key);
  const at = key.indexOf('@');
  const message = state.actionMessage.get(key);
  const actions = (e: ServiceEntry & { service: string }) => {
    if (!s.writable) return html`<span class="note">read-only registry</span>`;
    const inactive = isInactive(e.value);
    const setWeight = (ev: Event) => {
      ev.preventDefault();
      const input = (ev.target as HTMLFormElement).elements.namedItem('weight') as HTMLInputElement;
      void changeMetadata(e.service, key, { weight: input.value });
    };
    return html`<button data-test="toggle-state" @click=${() => changeMetadata(e.service, key, { state: inactive ? 'active' : 'inactive' })}>${inactive ? 'Activate' : 'Deactivate'}</button>
      <form class="inline" @submit=${setWeight}><input class="weight" name="weight" inputmode="numeric" placeholder="weight" aria-label="weight" />
        <button data-test="set-weight">Set weight</button></form>`;
  };
  return html`<section>
    <h2>Server <span class="mono" data-test="server-key">${key}</span></h2>
    <p class="note">network <b>${key.slice(0, at)}</b>, address <b class="mono">${key.slice(at + 1)}</b>${known ? nothing : html` — <span class="error">not registered now</span>`}</p>
    ${message ? html`<p class=${message.bad ? 'error' : 'note'} role=${message.bad ? 'alert' : 'status'} data-test="action-message">${message.text}</p>` : nothing}
    ${s.kind === 'registry'
      ? html`<h3>Services of this server <small>${entries.length}</small></h3>
          ${entries.length ? serverTable(entries, (e) => html`<a href=${`#/call?service=${encodeURIComponent((e as ServiceEntry & { service: string }).service)}&server=${encodeURIComponent(key)}`}>${(e as ServiceEntry & { service: string }).service}</a>`, actions as (e: ServiceEntry) => TemplateResult) : html`<p class="note">none</p>`}`
      : nothing}
    <h3>Calls per second, as the server reports them</h3>
    ${chart([{ points: s.reportedCalls[key] ?? [], cls: 'calls', label: 'calls/s' }], 60_000 * 2)}
    <p class="note">The <code>calls</code> rate the server's register plugin writes at each refresh (go-metrics RateMean: calls per second since the server started). No metrics plugin is on.</p>
  </section>`;
}

async function changeMetadata(service: string, server: string, change: { state?: string; weight?: string }): Promise<void> {
  const { data } = await post<{ error?: string; metadata?: string }>('/api/metadata', { service, server, ...change });
  state.actionMessage.set(server, data.error ? { text: data.error, bad: true } : { text: `${service}: ${data.metadata}`, bad: false });
  update();
}

function callView(s: Snapshot): TemplateResult {
  const c = state.call;
  const services = s.services.map((x) => x.name);
  const servers = s.kind === 'server' ? s.servers : (s.services.find((x) => x.name === c.service)?.servers.map((e) => e.key) ?? []);
  const field = (name: keyof typeof c) => (e: Event) => {
    (c as Record<string, unknown>)[name] = (e.target as HTMLInputElement).value;
    update();
  };
  const bad = (name: string) => (c.invalid?.field === name ? html`<p class="error wide" role="alert" data-test="invalid">${c.invalid.error}</p>` : nothing);
  const submit = async (e: Event) => {
    e.preventDefault();
    c.busy = true;
    c.invalid = undefined;
    c.result = undefined;
    update();
    type Answer = CallResult & { error?: string; field?: string };
    const { status, data } = await post<Answer>('/api/call', {
      service: c.service,
      method: c.method,
      server: c.server,
      codec: c.codec,
      args: c.args,
      metadata: c.metadata,
      timeoutMs: Number(c.timeoutMs),
      repeat: Number(c.repeat),
    }).catch((error: Error) => ({ status: 0, data: { ok: false, error: `the console did not answer: ${error.message}`, latencyMs: 0 } as Answer }));
    c.busy = false;
    if (status === 400) c.invalid = { error: data.error ?? 'invalid input', field: data.field };
    else c.result = data;
    update();
  };
  return html`<form class="call" @submit=${submit} data-test="call-form">
      <h2 class="span">Call a method</h2>
      <label for="service">Service</label>
      <input id="service" list="services" .value=${c.service} @input=${field('service')} autocomplete="off" required />
      <datalist id="services">${services.map((name) => html`<option value=${name}></option>`)}</datalist>
      ${bad('service')}
      <label for="method">Method</label><input id="method" .value=${c.method} @input=${field('method')} placeholder="Mul" required />
      ${bad('method')}
      <label for="server">Server</label>
      <select id="server" @change=${field('server')}>
        ${s.kind === 'registry' ? html`<option value="" ?selected=${c.server === ''}>any (the client picks)</option>` : nothing}
        ${servers.map((key) => html`<option value=${key} ?selected=${c.server === key}>${key}</option>`)}
      </select>
      ${bad('server')}
      <label for="codec">Codec</label>
      <select id="codec" @change=${field('codec')}>
        ${['msgpack', 'json', 'raw'].map((name) => html`<option value=${name} ?selected=${c.codec === name}>${name}</option>`)}
      </select>
      <label for="args">Arguments</label><textarea id="args" class="mono" .value=${c.args} @input=${field('args')} spellcheck="false"></textarea>
      ${bad('args')}
      <label for="metadata">Metadata</label><textarea id="metadata" class="mono" .value=${c.metadata} @input=${field('metadata')} placeholder='{"trace": "on"}' spellcheck="false"></textarea>
      ${bad('metadata')}
      <label for="timeout">Timeout (ms)</label><input id="timeout" inputmode="numeric" .value=${c.timeoutMs} @input=${field('timeoutMs')} />
      ${bad('timeoutMs')}
      <label for="repeat">Repeat</label><input id="repeat" inputmode="numeric" .value=${c.repeat} @input=${field('repeat')} />
      ${bad('repeat')}
      <span></span><span><button class="primary" ?disabled=${c.busy} data-test="call">${c.busy ? 'Calling…' : 'Call'}</button></span>
      ${c.invalid && !c.invalid.field ? html`<p class="error wide" role="alert" data-test="invalid">${c.invalid.error}</p>` : nothing}
    </form>
    <div class="page">${c.result ? resultView(c.result) : nothing}
      <h3>Calls from this console <small>calls/s (blue) and p99 ms (orange), per second</small></h3>
      ${chart(
        [
          { points: state.calls.seconds.map(([t, n]) => [t, n] as [number, number]), cls: 'calls', label: 'calls/s' },
          { points: state.calls.seconds.map(([t, , p99]) => [t, p99] as [number, number]), cls: 'p99', label: 'p99 ms' },
        ],
        60_000,
      )}
      <p class="note">Measured here: no metrics plugin (Prometheus / OpenTelemetry) is on, so the servers report no latency.</p>
    </div>`;
}

function resultView(r: CallResult): TemplateResult {
  if (!r.ok) return html`<div class="result" data-test="result"><p class="error" role="alert" data-test="call-error">${r.error}</p><span class="note">after ${r.latencyMs} ms</span></div>`;
  return html`<div class="result" data-test="result">
    <div class="figures">
      <span>latency <b data-test="latency">${r.latencyMs} ms</b></span>
      ${r.server ? html`<span>server <b class="mono" data-test="reply-server">${r.server}</b></span>` : nothing}
      ${r.calls > 1 ? html`<span>${r.calls} calls, ${r.failed} failed, ${r.callsPerSecond} calls/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms</span>` : nothing}
    </div>
    ${r.firstError ? html`<p class="error">${r.firstError}</p>` : nothing}
    <h3>Reply</h3><pre data-test="reply">${r.reply}</pre>
    <h3>Reply metadata</h3><pre data-test="reply-metadata">${JSON.stringify(r.responseMetadata, null, 2)}</pre>
  </div>`;
}

/** Lines over the last `spanMs`, each scaled to its own maximum (labelled at the right). */
function chart(series: { points: [number, number][]; cls: string; label: string }[], spanMs: number): TemplateResult {
  const width = 560;
  const height = 110;
  const now = Date.now();
  const x = (t: number) => Math.max(0, ((t - (now - spanMs)) / spanMs) * (width - 70));
  return html`<svg class="chart" width=${width} height=${height} viewBox="0 0 ${width} ${height}" role="img" aria-label=${series.map((s) => s.label).join(', ')}>
    ${series.map((s, i) => {
      const pts = s.points.filter(([t]) => t >= now - spanMs);
      const max = Math.max(0, ...pts.map(([, v]) => v));
      const y = (v: number) => height - 12 - (max === 0 ? 0 : (v / max) * (height - 26));
      // A rate holds until the next sample: extend the last one to now.
      const last = pts[pts.length - 1];
      const path = [...pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`), ...(last ? [`${x(now).toFixed(1)},${y(last[1]).toFixed(1)}`] : [])].join(' ');
      return svg`<polyline class=${s.cls} points=${path}></polyline>
        <text x=${width - 66} y=${14 + i * 14}>${s.label} ≤ ${pts.length ? Number(max.toPrecision(3)) : '–'}</text>`;
    })}
    <text x="2" y=${height - 1}>−${spanMs / 1000}s</text><text x=${width - 90} y=${height - 1}>now</text>
  </svg>`;
}

function route(): { view: 'services' } | { view: 'server'; key: string } | { view: 'call'; params: URLSearchParams } {
  const hash = location.hash.replace(/^#/, '') || '/';
  if (hash.startsWith('/server/')) return { view: 'server', key: decodeURIComponent(hash.slice('/server/'.length)) };
  if (hash.startsWith('/call')) return { view: 'call', params: new URLSearchParams(hash.split('?')[1] ?? '') };
  return { view: 'services' };
}

function update(): void {
  const r = route();
  const s = state.snapshot;
  let body: TemplateResult;
  if (state.needsToken) body = tokenForm();
  else if (!s) body = html`<section><p class="note">Connecting…</p></section>`;
  else if (r.view === 'server') body = serverView(s, r.key);
  else if (r.view === 'call') body = callView(s);
  else body = servicesView(s);
  render(html`${header()}${body}`, app);
}

/** Links to the call page fill the form (service, server). */
function onRoute(): void {
  const r = route();
  if (r.view === 'call') {
    const service = r.params.get('service');
    const server = r.params.get('server');
    if (service !== null) state.call.service = service;
    if (server !== null) state.call.server = server;
    state.call.result = undefined;
    state.call.invalid = undefined;
  }
  update();
}

const app = document.getElementById('app')!;
app.textContent = ''; // the "Loading…" placeholder; lit-html renders after existing children
window.addEventListener('hashchange', onRoute);
onRoute();
void follow();
// Charts move with time even when nothing else changes.
setInterval(() => {
  if (route().view !== 'services') update();
}, 1000);
