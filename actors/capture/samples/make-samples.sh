#!/usr/bin/env bash
# Regenerates the demo camera's sample media (run once; the outputs are committed).
# 10 s (G.711: 10.24 s, 80 whole 1024-sample frames), 640x360, 25 fps, GOP 50, no B-frames, parameter sets before every keyframe.
set -euo pipefail
cd "$(dirname "$0")"
common=(-hide_banner -loglevel error -y)
src=(-f lavfi -i "testsrc2=size=640x360:rate=25:duration=10")
ffmpeg "${common[@]}" "${src[@]}" -c:v libx264 -profile:v main -pix_fmt yuv420p -bf 0 -g 50 -keyint_min 50 -sc_threshold 0 \
  -b:v 180k -maxrate 220k -bufsize 400k -f h264 demo-h264.h264
ffmpeg "${common[@]}" -f lavfi -i "sine=frequency=440:sample_rate=16000:duration=10" -c:a aac -b:a 24k -ac 1 -f adts demo-aac.aac
ffmpeg "${common[@]}" "${src[@]}" -c:v libx265 -pix_fmt yuv420p -x265-params "keyint=50:min-keyint=50:bframes=0:scenecut=0:repeat-headers=1:log-level=error" \
  -b:v 150k -f hevc demo-h265.h265
ffmpeg "${common[@]}" -f lavfi -i "sine=frequency=660:sample_rate=8000:duration=10.24" -c:a pcm_alaw -ar 8000 -ac 1 -f alaw demo-g711a.alaw
