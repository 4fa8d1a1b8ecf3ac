/**
 * validate — a parsed config document (YAML or JSON, `${ENV}` already substituted) checked
 * and turned into a GatewayConfig, or every problem found, each at its path.
 * Relative paths resolve against `baseDir` (the config file's folder).
 * Owns: the rules and defaults of each section. Must never: touch the file system beyond
 * resolving paths, or stop at the first problem.
 */
import { isAbsolute, resolve } from 'node:path';
import { admissionProblem, DEFAULT_ADMISSION } from '../../actors/p2p/admission.js';
import { parseStunUrl } from '../../actors/p2p/stun.js';
import { checkWatermarks } from '../../actors/p2p/watermark.js';
import type { AudioFormat } from '../../media/codecs.js';
import { CAPTURE_WORKERS, DEFAULT_WATERMARKS } from '../gateway-options.js';
import { DEFAULT_RING_BYTES, MAX_RING_BYTES, MIN_RING_BYTES } from '../cameras/camera-ring.js';
import { Checker, join, show, type Obj } from './check.js';
import type { CameraConfig, CameraSource, CloudConfig, ConfigProblem, GatewayConfig, IceConfig, IceServerConfig, SignalingConfig } from './schema.js';
import { LOG_LEVELS } from '../logger.js';

const TOP = ['device', 'cameras', 'signaling', 'ice', 'cloud', 'watermarks', 'admission', 'keepAlive', 'memory', 'logging', 'http'] as const;
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:8080';
export const SOURCE_HINT = 'expected rtsp://, ffmpeg:, file:, test: or push';

/** `device:`: its id (optional) and data directory (default `ivgw-data`, relative to the config file). */
export function deviceSection(c: Checker, raw: unknown, path: (p: string) => string): { id: string | undefined; data: string } {
  const dev = c.object(raw, 'device', ['id', 'data']) ?? {};
  const id = c.string(dev, 'id', 'device');
  if (id !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
    c.problem('device.id', `expected 1..64 of [A-Za-z0-9_.-] (it is part of MQTT topics), got ${show(id)}`);
  }
  return { id, data: path(c.string(dev, 'data', 'device', 'ivgw-data') as string) };
}

export function validateConfig(doc: unknown, baseDir: string): { config: GatewayConfig } | { problems: ConfigProblem[] } {
  const c = new Checker();
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  const top = c.object(doc, '', TOP, false) ?? {};
  const { id, data } = deviceSection(c, top.device, path);
  const cameras = c.list(top, 'cameras', '').map((raw, i) => camera(c, raw, i, path));
  if (cameras.length === 0 && !c.problems.some((p) => p.path.startsWith('cameras'))) {
    c.problem('cameras', 'at least one camera is needed');
  }
  for (const key of ['name', 'channel'] as const) {
    const seen = new Map<unknown, number>();
    cameras.forEach((cam, i) => {
      if (cam && seen.has(cam[key])) {
        c.problem(`cameras[${i}].${key}`, `${show(cam[key])} is already used by cameras[${seen.get(cam[key])}]`);
      }
      seen.set(cam?.[key], i);
    });
  }
  const signaling = signalingSection(c, top.signaling, path);
  const ice = iceSection(c, top.ice);
  const cloud = cloudSection(c, top.cloud, data, path);
  const wm = c.object(top.watermarks, 'watermarks', ['low', 'warn', 'high']) ?? {};
  const watermarks = { low: c.size(wm, 'low', 'watermarks', DEFAULT_WATERMARKS.low), warn: c.size(wm, 'warn', 'watermarks', DEFAULT_WATERMARKS.warn), high: c.size(wm, 'high', 'watermarks', DEFAULT_WATERMARKS.high) };
  const wp = checkWatermarks(watermarks);
  if (wp) {
    c.problem(`watermarks.${wp.field}`, wp.message);
  }
  const ad = c.object(top.admission, 'admission', ['maxApps', 'maxStreams']) ?? {};
  const admission = { maxApps: c.int(ad, 'maxApps', 'admission', 1, 100_000, DEFAULT_ADMISSION.maxApps), maxStreams: c.int(ad, 'maxStreams', 'admission', 1, 100_000, DEFAULT_ADMISSION.maxStreams) };
  const ap = admissionProblem(admission);
  if (ap) {
    c.problem(`admission.${ap.field}`, ap.message);
  }
  const mem = c.object(top.memory, 'memory', ['trimAfterLeave', 'trimEvery', 'dropIdleCode', 'captureWorker']) ?? {};
  const memory = { trimAfterLeaveS: c.duration(mem, 'trimAfterLeave', 'memory', 2), trimEveryS: c.duration(mem, 'trimEvery', 'memory', 60), dropIdleCode: c.bool(mem, 'dropIdleCode', 'memory', true), captureWorker: c.oneOf(mem, 'captureWorker', 'memory', CAPTURE_WORKERS, 'auto') };
  const ka = c.object(top.keepAlive, 'keepAlive', ['interval', 'probes']) ?? {};
  const keepAlive = { intervalS: c.duration(ka, 'interval', 'keepAlive', 5), probes: c.int(ka, 'probes', 'keepAlive', 0, 10, 3) };
  if (!Number.isInteger(keepAlive.intervalS) || keepAlive.intervalS > 255) {
    c.problem('keepAlive.interval', `expected whole seconds 0..255 (0 turns probing off), got ${keepAlive.intervalS}`);
  }
  const lg = c.object(top.logging, 'logging', ['level', 'format']) ?? {};
  const logging = { level: c.oneOf(lg, 'level', 'logging', LOG_LEVELS, 'info'), format: c.oneOf(lg, 'format', 'logging', ['auto', 'text', 'json'] as const, 'auto') };
  const hs = c.object(top.http, 'http', ['listen', 'bearerToken', 'openHealth']) ?? {};
  const listen = c.string(hs, 'listen', 'http', DEFAULT_HTTP_LISTEN) as string;
  if (listen !== 'off' && !/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(listen)) {
    c.problem('http.listen', `expected HOST:PORT or off, got ${show(listen)}`);
  }
  const bearerToken = c.string(hs, 'bearerToken', 'http');
  if (bearerToken !== undefined && bearerToken.length < 16) {
    c.problem('http.bearerToken', 'expected at least 16 characters (it guards the metrics and status)');
  }
  const openHealth = c.bool(hs, 'openHealth', 'http', false);
  const http = { listen: listen === 'off' ? undefined : listen, ...(bearerToken !== undefined ? { bearerToken } : {}), ...(openHealth ? { openHealth } : {}) };
  if (c.problems.length > 0) {
    return { problems: c.problems };
  }
  return { config: { device: { id: id ?? '', data }, cameras: cameras as CameraConfig[], signaling, ice, cloud, watermarks, admission, keepAlive, memory, logging, http } };
}

const AUDIO_DEFAULTS: Record<string, AudioFormat> = {
  aac: { codec: 'aac', sampleRate: 16000, channels: 1 },
  g711a: { codec: 'g711a', sampleRate: 8000, channels: 1 },
  g711u: { codec: 'g711u', sampleRate: 8000, channels: 1 },
};

function camera(c: Checker, raw: unknown, i: number, path: (p: string) => string): CameraConfig | undefined {
  const at = `cameras[${i}]`;
  const o = c.object(raw, at, ['name', 'channel', 'source', 'transcode', 'video', 'audio', 'audioFile', 'fps', 'recording', 'retention', 'ring'], false);
  if (!o) {
    return undefined;
  }
  const name = c.string(o, 'name', at, `cam${i}`) as string;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
    c.problem(join(at, 'name'), `expected 1..64 of [A-Za-z0-9_.-], got ${show(name)}`);
  }
  const channel = c.int(o, 'channel', at, 0, 63, i);
  const src = sourceOf(c, o.source, join(at, 'source'), path);
  const video = o.video === undefined ? undefined : c.oneOf(o, 'video', at, ['h264', 'h265'] as const, 'h264');
  let audio: CameraConfig['audio'];
  if (typeof o.audio === 'string') {
    const a = c.oneOf(o, 'audio', at, ['none', 'aac', 'g711a', 'g711u'] as const, 'none');
    audio = a === 'none' ? 'none' : AUDIO_DEFAULTS[a];
  } else if (o.audio !== undefined) {
    const ao = c.object(o.audio, join(at, 'audio'), ['codec', 'sampleRate', 'channels']) ?? {};
    const codec = c.oneOf(ao, 'codec', join(at, 'audio'), ['aac', 'g711a', 'g711u'] as const, 'aac');
    audio = { codec, sampleRate: c.int(ao, 'sampleRate', join(at, 'audio'), 8000, 96000, codec === 'aac' ? 16000 : 8000), channels: c.int(ao, 'channels', join(at, 'audio'), 1, 2, 1) as 1 | 2 };
  }
  const fps = o.fps === undefined ? undefined : c.int(o, 'fps', at, 1, 120);
  const transcode = c.bool(o, 'transcode', at, false);
  const recording = c.oneOf(o, 'recording', at, ['full-time', 'events', 'off'] as const, 'full-time');
  const ret = c.object(o.retention, join(at, 'retention'), ['maxAge', 'maxSize']) ?? {};
  const retention = { maxAgeS: c.duration(ret, 'maxAge', join(at, 'retention'), 86_400), maxBytes: c.size(ret, 'maxSize', join(at, 'retention'), 1024 ** 3) };
  const ring = c.size(o, 'ring', at, DEFAULT_RING_BYTES);
  if (ring < MIN_RING_BYTES || ring > MAX_RING_BYTES) {
    c.problem(join(at, 'ring'), `expected 1MiB..1GiB (at least two of the camera's GOPs), got ${ring} bytes`);
  }
  let source = src;
  if (src?.kind === 'file') {
    const audioFile = c.string(o, 'audioFile', at);
    source = { ...src, ...(audioFile ? { audio: path(audioFile) } : {}) };
    if (audioFile && (audio === undefined || audio === 'none')) {
      c.problem(join(at, 'audio'), 'an audioFile needs its format: aac, g711a, g711u or { codec, sampleRate, channels }');
    }
    if (!video && !/\.(h264|264|avc|h265|hevc|265)$/i.test(src.video)) {
      c.problem(join(at, 'video'), 'cannot tell the codec from the file name: say h264 or h265');
    }
  } else if (o.audioFile !== undefined) {
    c.problem(join(at, 'audioFile'), 'only a file: source takes an audioFile');
  }
  if (src?.kind === 'push' && !video && (audio === undefined || audio === 'none')) {
    c.problem(join(at, 'video'), 'a push camera declares its formats: video h264|h265 and/or audio');
  }
  if (!src) {
    return undefined;
  }
  return { name, channel, source: source as CameraSource, transcode, ...(video ? { video } : {}), ...(audio ? { audio } : {}), ...(fps ? { fps } : {}), recording, retention, ringBytes: ring };
}

function sourceOf(c: Checker, v: unknown, at: string, path: (p: string) => string): CameraSource | undefined {
  if (typeof v !== 'string' || v.trim() === '') {
    return c.problem(at, `${SOURCE_HINT}, got ${show(v)}`);
  }
  const s = v.trim();
  if (/^rtsps?:\/\//i.test(s)) {
    try {
      const u = new URL(s);
      if (!u.hostname) {
        throw new Error('host');
      }
    } catch {
      return c.problem(at, `not a valid rtsp:// URL: ${show(s)}`);
    }
    return { kind: 'rtsp', url: s };
  }
  if (s.startsWith('ffmpeg:')) {
    const args = splitArgs(s.slice(7));
    if (args === undefined || !args.includes('-i')) {
      return c.problem(at, 'ffmpeg: takes ffmpeg input options including -i, e.g. "ffmpeg:-f v4l2 -i /dev/video0"');
    }
    return { kind: 'ffmpeg', args };
  }
  if (s.startsWith('file:')) {
    const file = s.slice(5);
    return file ? { kind: 'file', video: path(file) } : c.problem(at, 'file: needs a path, e.g. file:cam.h264');
  }
  if (s.startsWith('test:') || s === 'test') {
    const pattern = s.slice(5) || 'testsrc2';
    return /^[A-Za-z0-9_=:,.x-]+$/.test(pattern) ? { kind: 'test', pattern } : c.problem(at, `test: takes an ffmpeg lavfi source such as testsrc2 or smptebars, got ${show(pattern)}`);
  }
  if (s === 'push') {
    return { kind: 'push' };
  }
  return c.problem(at, `${SOURCE_HINT}, got ${show(s)}`);
}

/** Shell-like splitting: whitespace separates, '…' and "…" quote; undefined on an open quote. */
export function splitArgs(s: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | undefined;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) {
        quote = undefined;
      } else {
        cur += ch;
      }
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) {
        out.push(cur);
      }
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (quote) {
    return undefined;
  }
  if (has || cur) {
    out.push(cur);
  }
  return out;
}

function hostPort(c: Checker, v: unknown, at: string, dfltPort: number): { host: string; port: number } | undefined {
  const m = typeof v === 'string' ? /^(?:\[([0-9a-fA-F:]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(v) : typeof v === 'number' ? ['', undefined, '127.0.0.1', String(v)] : null;
  const port = Number(m?.[3] ?? dfltPort);
  if (!m || port > 65535) {
    return c.problem(at, `expected HOST:PORT such as 0.0.0.0:1883, got ${show(v)}`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

function signalingSection(c: Checker, v: unknown, path: (p: string) => string): SignalingConfig {
  const o = c.object(v, 'signaling', ['embedded', 'external']) ?? {};
  if (o.external !== undefined) {
    if (o.embedded !== undefined) {
      c.problem('signaling', 'give either embedded or external, not both');
    }
    const e = c.object(o.external, 'signaling.external', ['url', 'username', 'password', 'tls']) ?? {};
    const url = c.required(e, 'url', 'signaling.external');
    if (url !== undefined) {
      let ok = false;
      try {
        const u = new URL(url);
        ok = ['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'tls:'].includes(u.protocol) && u.hostname !== '';
      } catch {
        ok = false;
      }
      if (!ok) {
        c.problem('signaling.external.url', `expected mqtt://, mqtts://, ws:// or wss:// with a host, got ${show(url)}`);
      }
    }
    const t = e.tls === undefined ? undefined : c.object(e.tls, 'signaling.external.tls', ['ca', 'cert', 'key']) ?? {};
    const username = c.string(e, 'username', 'signaling.external');
    const password = c.string(e, 'password', 'signaling.external');
    const tls = t ? Object.fromEntries((['ca', 'cert', 'key'] as const).flatMap((k) => { const f = c.string(t, k, 'signaling.external.tls'); return f ? [[k, path(f)]] : []; })) : undefined;
    return { kind: 'external', url: url ?? '', ...(username ? { username } : {}), ...(password ? { password } : {}), ...(tls ? { tls } : {}) };
  }
  const e = c.object(o.embedded, 'signaling.embedded', ['listen', 'tls', 'websocket']) ?? {};
  const listenRaw = e.listen === undefined ? ['127.0.0.1:1883'] : Array.isArray(e.listen) ? e.listen : [e.listen];
  const listen = listenRaw.map((l, i) => hostPort(c, l, `signaling.embedded.listen[${i}]`, 1883)).filter((x): x is { host: string; port: number } => x !== undefined);
  const wsRaw = e.websocket === undefined ? [] : Array.isArray(e.websocket) ? e.websocket : [e.websocket];
  const websocket = wsRaw.map((l, i) => hostPort(c, l, `signaling.embedded.websocket[${i}]`, 8083)).filter((x): x is { host: string; port: number } => x !== undefined);
  const ws = websocket.length > 0 ? { websocket } : {};
  if (e.tls === undefined) {
    return { kind: 'embedded', listen, ...ws };
  }
  const t = c.object(e.tls, 'signaling.embedded.tls', ['cert', 'key', 'listen']) ?? {};
  const cert = c.required(t, 'cert', 'signaling.embedded.tls');
  const key = c.required(t, 'key', 'signaling.embedded.tls');
  const tl = t.listen === undefined ? ['0.0.0.0:8883'] : Array.isArray(t.listen) ? t.listen : [t.listen];
  return { kind: 'embedded', listen, ...ws, tls: { cert: path(cert ?? ''), key: path(key ?? ''), listen: tl.map((l, i) => hostPort(c, l, `signaling.embedded.tls.listen[${i}]`, 8883)).filter((x): x is { host: string; port: number } => x !== undefined) } };
}

function iceSection(c: Checker, v: unknown): IceConfig {
  const o = c.object(v, 'ice', ['bind', 'servers', 'portRange']) ?? {};
  const bind = c.string(o, 'bind', 'ice', '127.0.0.1') as string;
  const servers = c.list(o, 'servers', 'ice').map((s, i): IceServerConfig | undefined => {
    const at = `ice.servers[${i}]`;
    const so = typeof s === 'string' ? { url: s } : c.object(s, at, ['url', 'username', 'credential']);
    if (!so) {
      return undefined;
    }
    const url = c.required(so, 'url', at);
    if (url !== undefined && !(/^stun:/.test(url) ? parseStunUrl(url) : /^turns?:[^\s:]+(:\d+)?(\?transport=(udp|tcp))?$/.test(url))) {
      c.problem(join(at, 'url'), `expected stun:HOST[:PORT] or turn:HOST[:PORT], got ${show(url)}`);
    }
    const username = c.string(so, 'username', at);
    const credential = c.string(so, 'credential', at);
    if (url?.startsWith('turn') && (!username || !credential)) {
      c.problem(at, 'a TURN server needs username and credential');
    }
    return { url: url ?? '', ...(username ? { username } : {}), ...(credential ? { credential } : {}) };
  }).filter((s): s is IceServerConfig => s !== undefined);
  let portRange: IceConfig['portRange'];
  if (o.portRange !== undefined) {
    const m = /^(\d{1,5})-(\d{1,5})$/.exec(String(o.portRange));
    const [b, e] = [Number(m?.[1]), Number(m?.[2])];
    if (!m || b < 1024 || e > 65535 || b > e) {
      c.problem('ice.portRange', `expected BEGIN-END within 1024-65535, got ${show(o.portRange)}`);
    } else {
      portRange = { begin: b, end: e };
    }
  }
  return { bind, servers, ...(portRange ? { portRange } : {}) };
}

function cloudSection(c: Checker, v: unknown, data: string, path: (p: string) => string): CloudConfig {
  const o = c.object(v, 'cloud', ['local', 's3']) ?? {};
  if (o.s3 !== undefined) {
    if (o.local !== undefined) {
      c.problem('cloud', 'give either local or s3, not both');
    }
    const s: Obj = c.object(o.s3, 'cloud.s3', ['endpoint', 'bucket', 'region', 'pathStyle', 'accessKeyId', 'secretAccessKey', 'sessionToken']) ?? {};
    const endpoint = c.required(s, 'endpoint', 'cloud.s3');
    if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) {
      c.problem('cloud.s3.endpoint', `expected an http(s) URL, got ${show(endpoint)}`);
    }
    const sessionToken = c.string(s, 'sessionToken', 'cloud.s3');
    return {
      kind: 's3', endpoint: endpoint ?? '', bucket: c.required(s, 'bucket', 'cloud.s3') ?? '', region: c.string(s, 'region', 'cloud.s3', 'us-east-1') as string,
      pathStyle: c.bool(s, 'pathStyle', 'cloud.s3', true), accessKeyId: c.required(s, 'accessKeyId', 'cloud.s3') ?? '', secretAccessKey: c.required(s, 'secretAccessKey', 'cloud.s3') ?? '',
      ...(sessionToken ? { sessionToken } : {}),
    };
  }
  const l = c.object(o.local, 'cloud.local', ['dir']) ?? {};
  const dir = c.string(l, 'dir', 'cloud.local');
  return { kind: 'local', dir: dir ? path(dir) : resolve(data, 'cloud') };
}
