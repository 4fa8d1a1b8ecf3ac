/**
 * template — the commented ivgw.yaml that `ivgw init` writes: every section with its
 * defaults, the camera source forms, and secrets taken from the environment.
 * Owns: that text. Must never: contain a secret.
 */

export function configTemplate(o: { deviceId: string }): string {
  return `# ivgw.yaml — the gateway's configuration (ivgw run --config ivgw.yaml).
# Relative paths are relative to this file. \${NAME} is replaced by the environment variable
# NAME (\${NAME:-fallback} when it may be unset; $$ is a literal $). Durations: 30s, 10m, 1h, 1d.
# Sizes: 512KiB, 100MiB, 10GiB. Command-line flags of \`ivgw run\` override what is here.

device:
  id: ${o.deviceId}            # part of the MQTT topics; must match data/device.json
  data: ivgw-data              # device.json (id, secret, DTLS certificate; mode 0600), recordings, spool

cameras:
  # source forms:
  #   rtsp://user:pass@host:554/path   an IP camera (ffmpeg, RTSP over TCP; video copied,
  #                                    audio copied when AAC/G.711, else transcoded to AAC)
  #   ffmpeg:-f v4l2 -i /dev/video0    any ffmpeg input options (re-encoded to H.264)
  #   file:cam.h264                    an Annex-B elementary stream, looped (audioFile: cam.aac)
  #   test:testsrc2                    an ffmpeg lavfi test pattern (with a tone)
  #   push                             frames come through the SDK's push API
  - name: test-pattern
    channel: 0
    source: test:testsrc2
    recording: full-time       # full-time | events | off
    retention: { maxAge: 1d, maxSize: 1GiB }
  # - name: front-door
  #   channel: 1
  #   source: rtsp://viewer:\${CAM1_PASSWORD}@192.168.1.20:554/stream1
  #   transcode: false         # true: re-encode (H.264, no B-frames) — needed for cameras sending B-frames
  #   # video: h264            # h264 | h265; probed from the camera when absent
  #   # audio: aac             # none | aac | g711a | g711u | { codec, sampleRate, channels }; probed when absent
  #   recording: events
  #   retention: { maxAge: 7d, maxSize: 10GiB }
  #   ring: 16MiB              # frame data kept in memory: at least two GOPs (default 8MiB = 32 s at 2 Mbit/s;
  #                            #   low bitrates use only what they need)

signaling:
  embedded:                    # the built-in MQTT broker (apps authenticate with their token)
    listen: [127.0.0.1:1883]   # 0.0.0.0:1883 for phones on the LAN
    # tls: { cert: broker.crt, key: broker.key, listen: [0.0.0.0:8883] }
    # websocket: [127.0.0.1:8083]  # MQTT over WebSocket for browsers (same tokens and topic rules)
  # external:                  # or any MQTT broker (docs/DEPLOY.md: mosquitto ACL)
  #   url: mqtts://broker.example.com:8883
  #   username: \${IVGW_MQTT_USER}
  #   password: \${IVGW_MQTT_PASSWORD}
  #   tls: { ca: ca.crt }

ice:
  bind: 127.0.0.1              # address of the ICE host candidates; 0.0.0.0 or "any" for the LAN
  servers: []                  # empty: the built-in STUN responder; e.g. [stun:stun.example.com:3478,
                               #   { url: "turn:turn.example.com:3478", username: u, credential: \${TURN_PASSWORD} }]
  # portRange: 50000-50100

cloud:
  local: { dir: ivgw-data/cloud }
  # s3:
  #   endpoint: https://s3.eu-west-1.amazonaws.com
  #   bucket: my-recordings
  #   region: eu-west-1
  #   pathStyle: true          # false: virtual-hosted (bucket.endpoint)
  #   accessKeyId: \${AWS_ACCESS_KEY_ID}
  #   secretAccessKey: \${AWS_SECRET_ACCESS_KEY}
  #   sessionToken: \${AWS_SESSION_TOKEN:-}

watermarks: { low: 200KiB, warn: 400KiB, high: 500KiB } # per stream (the SDK's example); all 0 disables
admission: { maxApps: 256, maxStreams: 512 }
keepAlive: { interval: 5s, probes: 3 }                   # STUN probes; 0 turns them off
memory: { trimAfterLeave: 2s, trimEvery: 60s, dropIdleCode: true, captureWorker: auto }  # freed memory back to the system after apps leave, and every minute when over 1 MiB (0 never), with the code pages unused since the last minute (dropIdleCode); capture on a worker of its own (own), on io (one isolate less), or auto: io on 2 cores or fewer
logging: { level: info, format: auto }                   # auto (JSON unless a terminal) | text | json
http:                                                    # /metrics (Prometheus), /healthz, /api/status
  listen: 127.0.0.1:8080                                 # off turns it off; 0.0.0.0:8080 for the LAN
  # bearerToken: \${IVGW_HTTP_TOKEN}                    # then every request needs Authorization: Bearer …
  # openHealth: true                                    # /healthz without the token (probes that cannot send it)
`;
}
