/**
 * The local Zoho CRM's Notification API (`/crm/v8/actions/watch`) and the callbacks it sends:
 *   POST   enable channels     PUT  replace a channel's details     PATCH  update some of them
 *   DELETE ?channel_ids=…      GET  the channels enabled (204: none)
 * Answered as Zoho answers them: per channel `{ code: "SUCCESS", details: { events: [{ channel_expiry,
 * resource_uri, resource_id, resource_name, channel_id }] } }` or `{ code, details: { api_name,
 * json_path }, status: "error" }` (all refused: 400, some: 207). A channel_expiry more than a
 * week ahead, or none, gets one hour (Zoho's documented default).
 *
 * Every create / edit / delete of a watched module (through the API, a sales user's edit, a
 * reply, a merge) is POSTed to each live channel's notify_url with its token — writes of one
 * request in one callback, per channel in order, asynchronously, a few tries each. Expired
 * channels get nothing; while deliveries are paused, callbacks are dropped (a missed delivery).
 */
import { zohoDateTime } from '#shared/crm/zoho/format';
import { MODULES } from './modules.ts';
import { errorBody, ZohoFailure, type Answer, type RecordWrite } from './store.ts';

interface Channel {
  readonly channelId: string;
  events: string[];
  expiresAt: number;
  token: string | undefined;
  notifyUrl: string;
  returnAffectedFieldValues: boolean;
  notifyOnRelatedAction: boolean;
}

const WEEK_MS = 7 * 86_400_000;
const DEFAULT_EXPIRY_MS = 3_600_000;
const MAX_TOKEN = 50;
const OPERATIONS = ['create', 'edit', 'delete', 'all'];
const EVENT_OF: Record<RecordWrite['operation'], string> = { insert: 'create', update: 'edit', delete: 'delete' };
/** Tries per callback, and the pause before the second (doubling). */
const TRIES = 3;
const RETRY_MS = 100;
const CALLBACK_TIMEOUT_MS = 5000;

type Entry = Record<string, unknown>;

export class LocalZohoNotifications {
  private readonly channels = new Map<string, Channel>();
  private pending: RecordWrite[] = [];
  private flushing = false;
  private paused = false;
  private sent = 0;
  /** Each channel's callbacks, in order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly options: { readonly apiUrl: () => string; readonly now: () => number }) {}

  /** POST (enable), PUT (replace) or PATCH (update) `{ watch: [...] }`. */
  write(method: 'POST' | 'PUT' | 'PATCH', body: unknown): Answer {
    const watch = body && typeof body === 'object' ? (body as { watch?: unknown }).watch : undefined;
    if (!Array.isArray(watch) || watch.length === 0) throw new ZohoFailure(400, errorBody('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'watch', json_path: '$.watch' }));
    const results = watch.map((item, index) => this.apply(method, item, index));
    const failed = results.filter((r) => r['status'] === 'error').length;
    return { status: failed === 0 ? 200 : failed === results.length ? 400 : 207, body: { watch: results } };
  }

  /** DELETE ?channel_ids=1,2 */
  disable(channelIds: string | null): Answer {
    const ids = (channelIds ?? '').split(',').filter(Boolean);
    if (ids.length === 0) throw new ZohoFailure(400, errorBody('REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param_name: 'channel_ids' }));
    const results = ids.map((id) =>
      this.channels.delete(id) ? { code: 'SUCCESS', details: { channel_id: id }, message: 'Successfully unsubscribed from actions-watch of the given module', status: 'success' } : { code: 'INVALID_DATA', details: { api_name: 'channel_ids', channel_id: id }, message: 'invalid data', status: 'error' },
    );
    const failed = results.filter((r) => r.status === 'error').length;
    return { status: failed === 0 ? 200 : failed === results.length ? 400 : 207, body: { watch: results } };
  }

  /** GET: the channels enabled. */
  details(): Answer {
    const live = [...this.channels.values()];
    if (live.length === 0) return { status: 204, body: null };
    return {
      status: 200,
      body: {
        watch: live.map((c) => ({ channel_id: c.channelId, events: c.events, channel_expiry: zohoDateTime(c.expiresAt), token: c.token ?? null, notify_url: c.notifyUrl, notify_on_related_action: c.notifyOnRelatedAction, return_affected_field_values: c.returnAffectedFieldValues })),
      },
    };
  }

  /** A record was written: notified once the request's other writes are in (one callback per module and operation). */
  recordWritten(write: RecordWrite): void {
    this.pending.push(write);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  pause(paused: boolean): void {
    this.paused = paused;
  }

  /** Callbacks answered 2xx so far. */
  deliveries(): number {
    return this.sent;
  }

  /** Resolves once every callback queued so far is delivered or given up (tests). */
  async settled(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all(this.queues.values());
  }

  private apply(method: 'POST' | 'PUT' | 'PATCH', item: unknown, index: number): Entry {
    const path = (key: string) => `$.watch[${index}].${key}`;
    const missing = (key: string) => ({ code: 'MANDATORY_NOT_FOUND', details: { api_name: key, json_path: path(key) }, message: 'required field not found', status: 'error' });
    const invalid = (key: string, extra: Entry = {}) => ({ code: 'INVALID_DATA', details: { api_name: key, json_path: path(key), ...extra }, message: 'invalid data', status: 'error' });
    if (!item || typeof item !== 'object' || Array.isArray(item)) return invalid('watch');
    const input = item as Record<string, unknown>;
    const rawId = input['channel_id'];
    if (rawId === undefined || rawId === null || rawId === '') return missing('channel_id');
    const channelId = String(rawId);
    if (!/^\d{1,19}$/.test(channelId)) return invalid('channel_id', { expected_data_type: 'long' });
    const existing = this.channels.get(channelId);
    if (method !== 'POST' && !existing) return invalid('channel_id');
    const partial = method === 'PATCH';
    const has = (key: string) => input[key] !== undefined;
    if (!partial && !has('events')) return missing('events');
    if (!partial && !has('notify_url')) return missing('notify_url');
    let events = existing?.events ?? [];
    if (has('events')) {
      const given = input['events'];
      if (!Array.isArray(given) || given.length === 0 || !given.every((e) => typeof e === 'string' && validEvent(e))) return invalid('events');
      events = [...new Set(given as string[])];
    }
    let notifyUrl = existing?.notifyUrl ?? '';
    if (has('notify_url')) {
      const url = input['notify_url'];
      if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) return invalid('notify_url');
      notifyUrl = url;
    }
    let token = partial ? existing?.token : undefined;
    if (has('token')) {
      const given = input['token'];
      if (typeof given !== 'string') return invalid('token', { expected_data_type: 'text' });
      if (given.length > MAX_TOKEN) return invalid('token', { maximum_length: MAX_TOKEN });
      token = given;
    }
    const now = this.options.now();
    let expiresAt = partial && existing ? existing.expiresAt : now + DEFAULT_EXPIRY_MS;
    if (has('channel_expiry')) {
      const given = input['channel_expiry'];
      const at = typeof given === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(given) ? Date.parse(given) : NaN;
      if (Number.isNaN(at)) return invalid('channel_expiry', { expected_data_type: 'datetime' });
      if (at <= now) return invalid('channel_expiry');
      expiresAt = at - now > WEEK_MS ? now + DEFAULT_EXPIRY_MS : at;
    }
    const flag = (key: string, fallback: boolean): boolean | Entry => {
      if (!has(key)) return fallback;
      return typeof input[key] === 'boolean' ? (input[key] as boolean) : invalid(key, { expected_data_type: 'boolean' });
    };
    const returnValues = flag('return_affected_field_values', partial ? (existing?.returnAffectedFieldValues ?? false) : false);
    if (typeof returnValues !== 'boolean') return returnValues;
    const related = flag('notify_on_related_action', partial ? (existing?.notifyOnRelatedAction ?? true) : true);
    if (typeof related !== 'boolean') return related;
    const channel: Channel = { channelId, events, expiresAt, token, notifyUrl, returnAffectedFieldValues: returnValues, notifyOnRelatedAction: related };
    this.channels.set(channelId, channel);
    const modules = [...new Set(events.map((e) => e.split('.')[0]!))];
    return {
      code: 'SUCCESS',
      details: {
        events: modules.map((module) => ({ channel_expiry: zohoDateTime(expiresAt), resource_uri: `${this.options.apiUrl()}/crm/v8/${module}`, resource_id: MODULES[module]?.moduleId ?? '', resource_name: module, channel_id: channelId })),
      },
      message: 'Successfully subscribed for actions-watch of the given module',
      status: 'success',
    };
  }

  private flush(): void {
    this.flushing = false;
    const writes = this.pending;
    this.pending = [];
    if (this.paused) return;
    // Consecutive writes of one module and operation (one request's batch) go in one callback.
    const groups: RecordWrite[][] = [];
    for (const write of writes) {
      const last = groups.at(-1);
      if (last && last[0]!.module === write.module && last[0]!.operation === write.operation && last.length < 100) last.push(write);
      else groups.push([write]);
    }
    const now = this.options.now();
    for (const channel of this.channels.values()) {
      if (channel.expiresAt <= now) continue;
      for (const group of groups) {
        const { module, operation } = group[0]!;
        if (!channel.events.includes(`${module}.${EVENT_OF[operation]}`) && !channel.events.includes(`${module}.all`)) continue;
        const body = {
          server_time: now,
          query_params: Object.fromEntries(new URL(channel.notifyUrl).searchParams),
          module,
          resource_uri: `${this.options.apiUrl()}/crm/v8/${module}`,
          ids: [...new Set(group.map((w) => w.id))],
          affected_fields: operation === 'update' ? group.map((w) => ({ [w.id]: [...w.fields] })) : [],
          operation,
          channel_id: channel.channelId,
          ...(channel.token !== undefined && { token: channel.token }),
        };
        const queued = (this.queues.get(channel.channelId) ?? Promise.resolve()).then(() => this.deliver(channel.notifyUrl, body));
        this.queues.set(channel.channelId, queued);
      }
    }
  }

  private async deliver(url: string, body: unknown): Promise<void> {
    for (let attempt = 0; attempt < TRIES; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, RETRY_MS * 2 ** (attempt - 1)));
      try {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS) });
        await response.arrayBuffer();
        if (response.ok) {
          this.sent += 1;
          return;
        }
      } catch {
        // Unreachable or timed out: tried again.
      }
    }
  }
}

/** `{Module}.{create|edit|delete|all}` of a module the Notification API supports here. */
function validEvent(event: string): boolean {
  const [module, operation, ...rest] = event.split('.');
  return rest.length === 0 && module !== undefined && module in MODULES && operation !== undefined && OPERATIONS.includes(operation);
}
