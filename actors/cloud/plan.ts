/**
 * plan — the cloud plan ("balance", iv_cs_get_balance_info): where it comes from
 * (`<device>/plan.json` in the object store, or a control endpoint URL answering the
 * same JSON), its validation and one fetch. The cache, refresh and expiry are
 * plan-lifecycle.ts's.
 *
 * Plan JSON: { "fullTime":  { "enabled": bool, "expiresAt": ISO | ms | null },
 *              "event":     { "enabled": bool, "expiresAt": ISO | ms | null },
 *              "freeTrial": { "enabled": bool, "expiresAt": ISO | ms, "service": "fullTime" | "event" },
 *              "storageDays": int }
 * A free trial (the SDK's CS_TYPE_FREE_TRIAL) grants its `service` until it expires (it
 * must say when); a paid service of the same kind makes it moot. `activeServices` is
 * the one reading of a plan at a moment: what records, and what iv_cs_get_balance_info
 * reports (cs_type: full time, else event, else free trial; the trial's seconds left).
 * Owns: the plan's JSON form and its key. Must never: invent a plan; a missing plan is
 * "no service", an unreadable one an error.
 */
import { withDeadline } from '../../runtime/deadline.js';
import { IvError } from '../../runtime/errors.js';
import { httpExchange } from './http-exchange.js';
import type { ObjectStore } from './object-store.js';

/** The largest plan answer taken (a plan is a few hundred bytes of JSON). */
const MAX_PLAN_BYTES = 64 * 1024;

/** The plan's key in the object store (read, never written). */
export const planKey = (device: string): string => `${device}/plan.json`;

export interface ServiceState {
  enabled: boolean;
  /** Wall-clock ms, or null for no expiry. */
  expiresAt: number | null;
}

export interface FreeTrial extends ServiceState {
  /** What the trial grants. */
  service: 'fullTime' | 'event';
}

export interface BalanceInfo {
  fullTime: ServiceState;
  event: ServiceState;
  freeTrial: FreeTrial;
  storageDays: number;
  /** When this information was fetched (ms), 0 if never. */
  fetchedAt: number;
}

export const NO_TRIAL: FreeTrial = { enabled: false, expiresAt: null, service: 'event' };
export const NO_PLAN: BalanceInfo = { fullTime: { enabled: false, expiresAt: null }, event: { enabled: false, expiresAt: null }, freeTrial: NO_TRIAL, storageDays: 0, fetchedAt: 0 };

export function serviceActive(s: ServiceState, nowMs = Date.now()): boolean {
  return s.enabled && (s.expiresAt === null || s.expiresAt > nowMs);
}

export interface ActiveServices {
  /** Full-time recording is granted (paid or by the trial). */
  fullTime: boolean;
  /** Event recording is granted (paid or by the trial). */
  event: boolean;
  /** The trial is running. */
  trial: boolean;
  /** Seconds the trial has left (0 when none runs). */
  trialRemainingS: number;
  /** iv_cs_type_e: 1 full time (paid), 2 event (paid), 3 free trial, 0 none. */
  csType: 0 | 1 | 2 | 3;
}

/** What a plan grants at `nowMs`. */
export function activeServices(plan: BalanceInfo, nowMs = Date.now()): ActiveServices {
  const paidFull = serviceActive(plan.fullTime, nowMs);
  const paidEvent = serviceActive(plan.event, nowMs);
  const trial = serviceActive(plan.freeTrial, nowMs);
  const trialRemainingS = trial && plan.freeTrial.expiresAt !== null ? Math.ceil((plan.freeTrial.expiresAt - nowMs) / 1000) : 0;
  return {
    fullTime: paidFull || (trial && plan.freeTrial.service === 'fullTime'),
    event: paidEvent || (trial && plan.freeTrial.service === 'event'),
    trial,
    trialRemainingS,
    csType: paidFull ? 1 : paidEvent ? 2 : trial ? 3 : 0,
  };
}

/** Every future moment at which what the plan grants changes. */
export function planExpiries(plan: BalanceInfo, nowMs: number): number[] {
  return [plan.fullTime.expiresAt, plan.event.expiresAt, plan.freeTrial.enabled ? plan.freeTrial.expiresAt : null].filter((e): e is number => e !== null && e > nowMs);
}

export type PlanSource = { kind: 'store'; store: ObjectStore; device: string } | { kind: 'url'; url: string };

function parseService(raw: unknown, field: string): ServiceState {
  if (raw === undefined || raw === null || raw === false) {
    return { enabled: false, expiresAt: null };
  }
  const r = raw as { enabled?: unknown; expiresAt?: unknown };
  if (typeof r !== 'object' || typeof r.enabled !== 'boolean') {
    throw new IvError('IV_ERR_CS_STORE', `plan.${field}.enabled: expected a boolean`, { field: `plan.${field}.enabled` });
  }
  let expiresAt: number | null = null;
  if (typeof r.expiresAt === 'number') {
    expiresAt = r.expiresAt;
  } else if (typeof r.expiresAt === 'string') {
    expiresAt = Date.parse(r.expiresAt);
    if (Number.isNaN(expiresAt)) {
      throw new IvError('IV_ERR_CS_STORE', `plan.${field}.expiresAt: not a date: ${JSON.stringify(r.expiresAt)}`, { field: `plan.${field}.expiresAt` });
    }
  } else if (r.expiresAt !== undefined && r.expiresAt !== null) {
    throw new IvError('IV_ERR_CS_STORE', `plan.${field}.expiresAt: expected an ISO date, ms or null`, { field: `plan.${field}.expiresAt` });
  }
  return { enabled: r.enabled, expiresAt };
}

function parseFreeTrial(raw: unknown): FreeTrial {
  const s = parseService(raw, 'freeTrial');
  if (!s.enabled) {
    return NO_TRIAL;
  }
  if (s.expiresAt === null) {
    throw new IvError('IV_ERR_CS_STORE', 'plan.freeTrial.expiresAt: a free trial must say when it ends', { field: 'plan.freeTrial.expiresAt' });
  }
  const service = (raw as { service?: unknown }).service;
  if (service !== 'fullTime' && service !== 'event') {
    throw new IvError('IV_ERR_CS_STORE', `plan.freeTrial.service: expected "fullTime" or "event", got ${JSON.stringify(service)}`, { field: 'plan.freeTrial.service' });
  }
  return { ...s, service };
}

export function parsePlan(text: string, fetchedAt: number): BalanceInfo {
  let raw: { fullTime?: unknown; event?: unknown; freeTrial?: unknown; storageDays?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch (err) {
    throw new IvError('IV_ERR_CS_STORE', `the plan is not JSON: ${(err as Error).message}`, { field: 'plan' });
  }
  if (typeof raw !== 'object' || raw === null) {
    throw new IvError('IV_ERR_CS_STORE', 'the plan is not a JSON object', { field: 'plan' });
  }
  const storageDays = raw.storageDays ?? 0;
  if (!Number.isInteger(storageDays) || (storageDays as number) < 0) {
    throw new IvError('IV_ERR_CS_STORE', 'plan.storageDays: expected a non-negative integer', { field: 'plan.storageDays' });
  }
  return { fullTime: parseService(raw.fullTime, 'fullTime'), event: parseService(raw.event, 'event'), freeTrial: parseFreeTrial(raw.freeTrial), storageDays: storageDays as number, fetchedAt };
}

/** Fetch the plan now; throws IV_ERR_TIMEOUT / IV_ERR_CS_STORE. A missing plan is "no service". */
export async function fetchPlan(source: PlanSource, timeoutMs: number): Promise<BalanceInfo> {
  const now = Date.now();
  if (source.kind === 'store') {
    const bytes = await withDeadline(source.store.get(planKey(source.device), timeoutMs), timeoutMs, 'plan query');
    return bytes === undefined ? { ...NO_PLAN, fetchedAt: now } : parsePlan(new TextDecoder().decode(bytes), now);
  }
  const res = await httpExchange(new URL(source.url), { method: 'GET', timeoutMs, maxBytes: MAX_PLAN_BYTES, what: `plan query ${source.url}` });
  if (res.status === 404) {
    return { ...NO_PLAN, fetchedAt: now };
  }
  if (res.status < 200 || res.status >= 300) {
    throw new IvError('IV_ERR_CS_STORE', `plan query ${source.url}: HTTP ${res.status}`);
  }
  return parsePlan(res.body.toString('utf8'), now);
}
