/**
 * schema — the shape of a gateway configuration (ivgw.yaml / .json) after validation:
 * the device, its cameras, signaling, ICE, the cloud store, watermarks, admission,
 * keep-alive and logging. Durations are seconds, sizes bytes.
 * Owns: the types. Must never: hold behaviour (validate.ts checks, the Gateway runs).
 */
import type { AudioFormat, VideoCodecName } from '../../media/codecs.js';
import type { LogLevel } from '../logger.js';

/** Where the cameras' capture actors run (`memory.captureWorker`; the choices: gateway-options.ts CAPTURE_WORKERS). */
export type CaptureWorker = 'auto' | 'own' | 'io';

/** Where a camera's frames come from (the `source:` string, parsed). */
export type CameraSource =
  | { kind: 'rtsp'; url: string }
  | { kind: 'ffmpeg'; args: string[] }
  | { kind: 'file'; video: string; audio?: string }
  | { kind: 'test'; pattern: string }
  | { kind: 'push' };

export type RecordingMode = 'full-time' | 'events' | 'off';

export interface CameraConfig {
  name: string;
  channel: number;
  source: CameraSource;
  /** Re-encode video (H.264 or `video`'s codec, no B-frames) instead of copying the camera's own. */
  transcode: boolean;
  /** Declared formats; for rtsp:/ffmpeg: they are probed when absent. */
  video?: VideoCodecName;
  audio?: AudioFormat | 'none';
  fps?: number;
  recording: RecordingMode;
  retention: { maxAgeS: number; maxBytes: number };
  /** Frame data its ring holds (gateway/cameras/camera-ring.ts); default 8 MiB. */
  ringBytes?: number;
}

export interface TlsFiles {
  cert?: string;
  key?: string;
  ca?: string;
}

export type SignalingConfig =
  /** `websocket`: MQTT over WebSocket listeners (browsers), same authentication and ACL. */
  | { kind: 'embedded'; listen: { host: string; port: number }[]; websocket?: { host: string; port: number }[]; tls?: { cert: string; key: string; listen: { host: string; port: number }[] } }
  | { kind: 'external'; url: string; username?: string; password?: string; tls?: TlsFiles };

export interface IceServerConfig {
  url: string;
  username?: string;
  credential?: string;
}

export interface IceConfig {
  /** ICE host candidates' address; `any` binds every interface. */
  bind: string;
  /** STUN/TURN servers; empty: the built-in STUN responder. */
  servers: IceServerConfig[];
  portRange?: { begin: number; end: number };
}

export type CloudConfig =
  | { kind: 'local'; dir: string }
  | { kind: 's3'; endpoint: string; bucket: string; region: string; pathStyle: boolean; accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export interface GatewayConfig {
  device: { id: string; data: string };
  cameras: CameraConfig[];
  signaling: SignalingConfig;
  ice: IceConfig;
  cloud: CloudConfig;
  watermarks: { low: number; warn: number; high: number };
  admission: { maxApps: number; maxStreams: number };
  keepAlive: { intervalS: number; probes: number };
  /**
   * trimAfterLeaveS after a burst of departures, the isolates that held the apps collect
   * (V8's low-memory notification) and freed native memory goes back to the system
   * (malloc_trim); it goes back every trimEveryS when more than 1 MiB is free (0: never); at each of
   * those looks the code pages not used since the last are dropped (dropIdleCode).
   */
  memory: { trimAfterLeaveS: number; trimEveryS: number; dropIdleCode: boolean; captureWorker: CaptureWorker };
  logging: { level: LogLevel; format: 'auto' | 'text' | 'json' };
  /** The operator's HTTP server; `listen: undefined` is off. */
  http: { listen: string | undefined; bearerToken?: string; openHealth?: boolean };
}

/** One thing wrong with a config, at its path (`cameras[1].source`). */
export interface ConfigProblem {
  path: string;
  message: string;
}
