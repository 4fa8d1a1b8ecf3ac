/**
 * usage — the usage text of `ivgw` and of each sub-command (printed by `--help`, and after
 * a usage error). Owns: those texts. Must never: import a command module.
 */

export type CommandName = 'run' | 'init' | 'probe' | 'token' | 'view' | 'load';

const D = 'durations: 30s, 10m, 1h, 1d (a plain number is seconds)';

export const USAGES: Record<CommandName, string> = {
  run: `usage: ivgw run [--config FILE] [--seconds DURATION] [--device ID] [--secret S] [--data DIR]
                [--mqtt-port P [--ws-port P] | --broker URL] [--ice-bind ADDR|any] [--stun stun:HOST:PORT]
                [--keepalive SECONDS,PROBES] [--watermarks LOW,WARN,HIGH] [--max-apps N] [--max-streams N]
                [--record DIR | --no-record] [--s3-endpoint URL --s3-bucket NAME]
                [--video FILE.h264|.h265 [--fps N]] [--firmware ./libfw.so [-- ARGS...]]
                [--http ADDR:PORT|off] [--log-level LEVEL] [--log-format auto|text|json]
                [--capture-worker auto|own|io]
  Runs the gateway. With --config FILE (YAML or JSON, see \`ivgw init\`) it serves the
  cameras of that file; without it, the two demo cameras on embedded defaults. Flags given
  with --config override the file. Ctrl-C (SIGINT) or SIGTERM stops it cleanly; SIGUSR2
  logs each thread's V8 heap ("memory settled"), after a full GC when node has --expose-gc,
  and the RSS after the idle code pages were dropped (memory.dropIdleCode).
  --seconds      stop after this long (${D})
  --device/--secret  the device identity (default: <data>/device.json, created on first start)
  --data         the data directory (default ./ivgw-data): device.json, recordings, spool
  --ws-port P    the embedded broker's MQTT-over-WebSocket listener for browsers (127.0.0.1;
                 default: a free port on embedded defaults, the config's signaling.embedded.websocket)
  --record DIR   record every camera to DIR (default the data directory); --no-record: off
  --s3-*         upload to S3 (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY[/AWS_SESSION_TOKEN])
  --video        channel 0 plays that elementary stream (looped) instead of the demo camera
  --http         the operator's HTTP server: /metrics (Prometheus), /healthz, /api/status
                 (default 127.0.0.1:8080; off: none; IVGW_HTTP_TOKEN: require that bearer token)
  --log-level    trace, debug, info (default), warn, error, fatal, silent
  --log-format   auto (default: JSON lines unless stdout is a terminal), text, json
  --capture-worker  auto (default): io on a machine of 2 cores or fewer, own otherwise; own:
                 the cameras' capture on a worker of its own; io: on the io worker with
                 commands, voice and recording, one isolate less (memory.captureWorker)
  --firmware     a C firmware built against native/include drives the device instead: its
                 iv_firmware_main(argc, argv) runs on a thread of its own with ARGS
`,
  init: `usage: ivgw init [--dir DIR] [--device ID] [--force]
  Writes a commented ivgw.yaml and the device identity (DIR/ivgw-data/device.json, mode 0600:
  device id, secret, DTLS certificate) into DIR (default .). Refuses to overwrite an
  existing ivgw.yaml unless --force; an existing device.json is always kept.
  Then: ivgw run --config DIR/ivgw.yaml
`,
  probe: `usage: ivgw probe [--type h264|h265|aac|g711a|g711u|pcm] [--rate HZ] [--channels 1|2] [--fps N]
                  [--decode auto|on|off] [--json] <file...>
  Checks camera elementary streams against the SDK's rules; exit 1 on a violation.
`,
  token: `usage: ivgw token --peer ID [--rights live,playback,voice,command] [--ttl DURATION]
                  [--data DIR | --config FILE] [--device ID --secret S] [--json]
  Mints an app access token. The device id and secret come from --device/--secret,
  IVGW_DEVICE_ID/IVGW_DEVICE_SECRET, or the device identity (<data>/device.json; the data
  directory from --data, the config file's device.data, or ./ivgw-data).
  --ttl     token lifetime (default 1h; ${D})
  --json    print {device, peer, rights, expires, token, fingerprint}: apps pin the
            device certificate's fingerprint (docs/PROTOCOL.md)
`,
  view: `usage: ivgw view --broker URL --device ID --peer P --token T [--channel N] [--seconds DURATION]
                 [--out f.flv] [--bind ADDR] [--fingerprint sha-256/HEX] [--json]
  Watches a device's live stream like an app and saves it; exit 1 when anything arrived broken.
  --fingerprint  refuse a device whose DTLS certificate differs (from \`ivgw token --json\`)
`,
  load: `usage: ivgw load --secret S | --data DIR [--broker URL] [--device ID] [--peers N] [--seconds DURATION] [--ramp R]
                 [--workers W] [--mix live=70,playback=10,voice=5,command=5,stall=5,churn=5]
                 [--channels 0,1] [--stall-seconds DURATION] [--bind ADDR] [--json] [--html FILE]
  N simulated apps against a device, with integrity checks, percentiles and a report.
  --mix          scenario weights: live, playback, voice, command, stall, churn, and idle
                 (connected, no stream)
`,
};

export const MAIN_USAGE = `usage: ivgw <command> [options]    (ivgw <command> --help for its options)

commands:
  init      write a commented ivgw.yaml and the device identity (certificate, secret)
  run       run the gateway: from --config FILE, or the demo cameras on embedded defaults
  token     mint an app access token from the device identity
  view      watch a device's live stream like an app and save it
  load      N simulated apps with integrity checks and a report
  probe     check camera elementary streams against the SDK's rules
  help      show this text;  ivgw --version prints the version
`;
