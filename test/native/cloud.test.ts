/**
 * The C API's cloud storage side: the spec's cloud sample pushes H.264 + 48 kHz AAC
 * through iv_cs_push_stream into the local store (decoded by ffmpeg); an event with a
 * snapshot goes through both picture callbacks; bad input from C gets the vendor's
 * numbers. Firmware built with ASan + UBSan, run by `ivgw run --firmware`.
 */
import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { SAMPLE, decodeErrors, ffmpeg, ffprobe, tempDir } from '../helpers/media.js';
import { buildFirmware, runFirmware, sanitizerReports, SAMPLES, TEST_FW } from './firmware.js';

function files(dir: string, re: RegExp): string[] {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => re.test(f)).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

function encode(args: string[]): void {
  const r = ffmpeg(['-v', 'error', '-y', ...args]);
  if (r.status !== 0) {
    throw new Error(r.stderr);
  }
}

test.serial('the C cloud sample pushes H.264 + AAC in the spec loop; the recording lands in the local store and ffmpeg decodes it', async (t) => {
  const dir = tempDir(t);
  const aac = join(dir, 'a48.aac');
  encode(['-i', SAMPLE.aac, '-ar', '48000', '-ac', '1', '-c:a', 'aac', '-b:a', '48k', '-f', 'adts', aac]);
  const fw = buildFirmware(join(SAMPLES, 'cloud_sample.c'), dir, 'cloud_sample');
  const rec = join(dir, 'rec');
  const gw = runFirmware(fw, [SAMPLE.h264, aac, '6'], { record: rec });
  t.teardown(() => gw.stop());
  const code = await gw.exited;
  const out = gw.fw();
  t.is(code, 0, `${gw.lines.join('\n')}\n${gw.stderr()}`);
  t.true(out.includes('balance ret=0 switch=1 days=7 type=1'), 'iv_cs_get_balance_info (blocking, 2 s) fills the plan: full time');
  t.true(out.includes('init ret=0'));
  t.true(out.includes('push_start'));
  const pushed = out.map((l) => /^pushed audio=(\d+) video=(\d+) refused audio=(\d+) video=(\d+) last_error=(-?\d+)$/.exec(l)).find(Boolean);
  t.truthy(pushed);
  t.true(Number(pushed?.[1]) > 200 && Number(pushed?.[2]) > 100, `pushed ${pushed?.[0]}`);
  t.is(pushed?.[3], '0');
  t.is(pushed?.[4], '0', 'no frame refused');
  t.true(out.includes('push_stop'), 'iv_cs_exit ends pushing with the stop callback');
  t.true(out.includes('exit ret=0 stopped=1'));
  const playlists = files(join(rec, 'cloud'), /index\.m3u8$/);
  t.is(playlists.length, 1, 'one session uploaded to the store');
  const pl = playlists[0] as string;
  t.true(readFileSync(pl, 'utf8').includes('#EXT-X-ENDLIST'));
  t.deepEqual(decodeErrors(pl), []);
  const probe = ffprobe(pl);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  t.is(video?.codec_name, 'h264');
  t.is(audio?.codec_name, 'aac');
  t.is(audio?.sample_rate, '48000');
  t.is(Number(video?.nb_read_frames), Number(pushed?.[2]), 'every pushed video frame is in the recording');
  // the spec's timestamps: 25 fps video, 1024 samples at 48 kHz audio
  t.true(Math.abs(Number(probe.format?.duration) - Number(pushed?.[2]) / 25) < 0.5, `duration ${probe.format?.duration}`);
  t.deepEqual(sanitizerReports(gw.stderr()), []);
});

test.serial('an event with a snapshot: the capture callback is asked, the picture is uploaded, the result callback gets the same pointer once; an event without picture gets no result call; a capture that fails hands its buffer back once', async (t) => {
  const dir = tempDir(t);
  const fw = buildFirmware(join(TEST_FW, 'fw_test.c'), dir, 'fw_test');
  const rec = join(dir, 'rec');
  const gw = runFirmware(fw, ['snapshot', SAMPLE.h264], { record: rec });
  t.teardown(() => gw.stop());
  t.is(await gw.exited, 0, gw.lines.join('\n'));
  const out = gw.fw();
  const cap = out.map((l) => /^capture event=3 pic=(\S+) size=2000$/.exec(l)).find(Boolean);
  t.truthy(cap, out.join('\n'));
  t.true(out.includes('capture event=4 none'));
  const failed = out.map((l) => /^capture event=5 pic=(\S+) failed$/.exec(l)).find(Boolean);
  t.truthy(failed, out.join('\n'));
  const results = out.filter((l) => l.startsWith('picture_result'));
  t.deepEqual(results.filter((l) => !l.startsWith('picture_result failed')), [`picture_result pic=${cap?.[1]} same=1 err=0`], 'one result, for event 3, with the pointer capture returned and IV_ERR_NONE');
  // a capture callback that returns an error: its event runs without a picture, and a buffer it set comes back once with that code (the firmware frees it)
  t.deepEqual(results.filter((l) => l.startsWith('picture_result failed')), [`picture_result failed pic=${failed?.[1]} err=-1`]);
  t.true(['event_start 3 ret=0', 'event_stop 3 ret=0', 'event_start 4 ret=0', 'event_stop 4 ret=0', 'event_start 5 ret=0', 'event_stop 5 ret=0'].every((l) => out.includes(l)), out.join('\n'));
  t.true(out.includes('snapshot done exit=0 pic_results=2'));
  const jpgs = files(join(rec, 'cloud'), /\.jpg$/);
  t.is(jpgs.length, 1);
  const jpg = readFileSync(jpgs[0] as string);
  t.is(jpg.length, 2000);
  t.deepEqual([...jpg.subarray(0, 2)], [0xff, 0xd8]);
  const records = files(join(rec, 'cloud'), /events\/.*\.json$/).map((f) => JSON.parse(readFileSync(f, 'utf8')) as { eventId: number; picture: unknown });
  t.deepEqual(records.map((r) => r.eventId).sort(), [3, 4, 5]);
  t.deepEqual(sanitizerReports(gw.stderr()), []);
});

/** What the vendor's iv_err.h numbers are for each bad call (fw_test.c "bad"). */
const EXPECTED: Record<string, number> = {
  p2p_exit_before_init: -312, // IV_ERR_AVT_STATE_ERROR
  p2p_init_null: -300, // IV_ERR_AVT_INIT_PRM_NULL
  p2p_init_cb_null: -301, // IV_ERR_AVT_INIT_CB_NULL
  p2p_init_keepalive_range: -302, // IV_ERR_AVT_INIT_PRM_RANGE
  p2p_init: 0,
  p2p_init_twice: -312,
  p2p_watermark_order: -310, // IV_ERR_AVT_INPUT_PARAM_INVAILD
  p2p_watermark_huge: 0, // equal marks at SIZE_MAX are in order
  p2p_watermark_zero: 0,
  p2p_send_buf_unknown: 0,
  p2p_send_status_null: 0,
  p2p_exit: 0,
  p2p_exit_twice: -312,
  p2p_init_keepalive: 0, // keep-alive 1 s × 2 probes against the built-in STUN responder
  p2p_exit_keepalive: 0,
  cs_push_before_init: -605, // IV_ERR_CS_PRM_NOT_AVAILABLE
  cs_exit_before_init: -605,
  cs_event_before_init: -605,
  cs_balance_null: -605,
  cs_balance_timeout_range: -605,
  cs_init_null: -600, // IV_ERR_CS_INIT_PRM_NULL
  cs_init_cb_null: -601, // IV_ERR_CS_INIT_CB_NULL
  cs_init_result_cb_null: -601,
  cs_init_gop_not_4k: -602, // IV_ERR_CS_INIT_PRM_RANGE
  cs_init_gop_zero: -602,
  cs_init_mjpg: -105, // IV_ERR_SYS_NOT_SUPPORT
  cs_init_video_type_range: -602,
  cs_init_g726: -105,
  cs_init_8bit: -105,
  cs_init_rate_range: -602,
  cs_init_pcm_160_samples: -602,
  cs_init_pcm_0_samples: -602, // 0 is not 1024 either
  cs_init: 0,
  cs_init_twice: -610, // IV_ERR_CS_INIT_REPEAT
  cs_push_null_pack: -605,
  cs_push_stream_type: -605,
  cs_push_len_zero: -605,
  cs_push_len_huge: -605,
  cs_push_addr_null: -605,
  cs_push_audio_addr_null: -605,
  cs_push_frame_type: -605,
  cs_push_idr_without_sps: -611, // IV_ERR_CS_NEED_IDR_FRAME
  cs_push_idr: 0,
  cs_push_p: 0,
  cs_push_p_marked_i: -605,
  cs_push_garbage: -605,
  cs_push_audio_garbage: -605,
  cs_push_b_frames: -605,
  cs_push_format_change: -605,
  cs_event_id_zero: -605,
  cs_event_id_17: -605,
  cs_event_stop_not_running: -605,
  cs_event_start: 0,
  cs_event_start_again: -609, // IV_ERR_CS_EVENT_IS_VALID
  cs_event_stop_ext_of_plain: -605,
  cs_event_stop: 0,
  cs_event_ext_mixed: -605,
  cs_event_ext_future: -605,
  cs_event_ext: 0,
  cs_event_stop_ext: 0,
  cs_balance_cached: 0,
  cs_balance_switch: 1,
  cs_balance_type: 1, // CS_TYPE_FULL_TIME
  cs_trans_time_zero: -605,
  cs_trans_time: 0,
  cs_exit: 0,
  cs_push_after_exit: -605,
  cs_exit_twice: -605,
  cs_event_after_exit: -605,
};

test.serial('bad input from C (NULL pointers, zero and huge lengths, unknown types, B-frames, a format change, calls before init and after exit, double init) returns the vendor numbers and never crashes; ASan and UBSan are silent', async (t) => {
  const dir = tempDir(t);
  const fw = buildFirmware(join(TEST_FW, 'fw_test.c'), dir, 'fw_test');
  // B-frames at the sample's size (so the refusal is about B-frames, not the size), and another size
  const bframes = join(dir, 'bframes.h264');
  encode(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-profile:v', 'main', '-bf', '2', '-g', '25', '-f', 'h264', bframes]);
  const other = join(dir, 'other.h264');
  encode(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=1', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-bf', '0', '-g', '25', '-f', 'h264', other]);
  const gw = runFirmware(fw, ['bad', SAMPLE.h264, bframes, other], { record: join(dir, 'rec') });
  t.teardown(() => gw.stop());
  t.is(await gw.exited, 0, `${gw.lines.join('\n')}\n${gw.stderr()}`);
  const got: Record<string, number> = {};
  for (const l of gw.fw()) {
    const m = /^check (\w+)=(-?\d+)$/.exec(l);
    if (m) {
      got[m[1] as string] = Number(m[2]);
    }
  }
  t.deepEqual(got, EXPECTED);
  t.true(gw.fw().includes('bad done pic_results=1'), 'the one snapshot (event 2) got its result');
  t.deepEqual(sanitizerReports(gw.stderr()), []);
});

/** fw_test run with `args` on a local store whose plan for `deviceId` is `plan`. */
function firmwareWithPlan(t: ExecutionContext, deviceId: string, plan: unknown, args: string[]): ReturnType<typeof runFirmware> {
  const dir = tempDir(t);
  const fw = buildFirmware(join(TEST_FW, 'fw_test.c'), dir, 'fw_test');
  const rec = join(dir, 'rec');
  mkdirSync(join(rec, 'cloud', deviceId), { recursive: true });
  writeFileSync(join(rec, 'cloud', deviceId, 'plan.json'), JSON.stringify(plan));
  const gw = runFirmware(fw, args, { record: rec, deviceId });
  t.teardown(() => gw.stop());
  return gw;
}

test.serial('without a cloud plan (called from a thread the firmware started): init works, no push_start, pushes and events get IV_ERR_CS_APPLY_NO_SERVICE, the balance says none', async (t) => {
  const gw = firmwareWithPlan(t, 'fw-noplan', { fullTime: { enabled: false }, event: { enabled: false } }, ['noplan', SAMPLE.h264]);
  t.is(await gw.exited, 0, gw.lines.join('\n'));
  const got: Record<string, number> = {};
  for (const l of gw.fw()) {
    const m = /^check (\w+)=(-?\d+)$/.exec(l);
    if (m) {
      got[m[1] as string] = Number(m[2]);
    }
  }
  t.deepEqual(got, { noplan_init: 0, noplan_balance: 0, noplan_balance_switch: 0, noplan_balance_type: 0, noplan_started: 0, noplan_push: -607, noplan_event: -607, noplan_exit: 0 });
  t.false(gw.fw().includes('push_start'));
  t.true(gw.fw().includes('noplan done'));
  t.deepEqual(sanitizerReports(gw.stderr()), []);
});

test.serial('a free-trial plan reaches C as the SDK has it: cs_switch 1, cs_type CS_TYPE_FREE_TRIAL, free_trial_remaining_sec counting down', async (t) => {
  const endsAt = Date.now() + 86_400_000;
  const gw = firmwareWithPlan(t, 'fw-trial', { freeTrial: { enabled: true, expiresAt: new Date(endsAt).toISOString(), service: 'event' }, storageDays: 3 }, ['trial']);
  t.is(await gw.exited, 0, gw.lines.join('\n'));
  const m = /^trial init=(-?\d+) balance=(-?\d+) switch=(\d+) type=(\d+) remaining=(\d+) days=(\d+)$/.exec(gw.fw().find((l) => l.startsWith('trial init')) ?? '');
  t.truthy(m, gw.fw().join('\n'));
  const [init, balance, sw, type, remaining = NaN, days] = (m ?? []).slice(1).map(Number);
  t.deepEqual({ init, balance, sw, type, days }, { init: 0, balance: 0, sw: 1, type: 3, days: 3 });
  t.true(remaining > 86_300 && remaining <= 86_400, `${remaining} s left of a day`);
  t.true(gw.fw().includes('trial exit=0'));
  t.deepEqual(sanitizerReports(gw.stderr()), []);
});

test.serial('iv_cs_get_balance_info(…, 1) blocks only its caller for about 1 s when the store does not answer, then returns IV_ERR_CS_QUERY_SERVICE_TIMEOUT; timeout 0 answers from the cache at once', async (t) => {
  const dir = tempDir(t);
  const fw = buildFirmware(join(TEST_FW, 'fw_test.c'), dir, 'fw_test');
  const sockets: Socket[] = [];
  const silent = createServer((s) => sockets.push(s)); // accepts, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    sockets.forEach((s) => s.destroy());
    silent.close();
  });
  const port = (silent.address() as AddressInfo).port;
  const gw = runFirmware(fw, ['balance'], { record: join(dir, 'rec'), extra: ['--s3-endpoint', `http://127.0.0.1:${port}`, '--s3-bucket', 'b'], env: { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' } });
  t.teardown(() => gw.stop());
  const zero = await gw.waitFor(/^fw: balance0 ret=(-?\d+) ms=(\d+)$/);
  t.is(zero[1], '0');
  t.true(Number(zero[2]) < 500, `timeout 0: ${zero[2]} ms`);
  const other = await gw.waitFor(/^fw: other ret=(-?\d+) ms=(\d+)$/);
  t.is(other[1], '0');
  t.true(Number(other[2]) < 500, `another thread's call took ${other[2]} ms while the balance query blocked`);
  const one = await gw.waitFor(/^fw: balance1 ret=(-?\d+) ms=(\d+) other_before=(\d) switch=(\d+)$/, 10_000);
  t.is(one[1], '-608', 'IV_ERR_CS_QUERY_SERVICE_TIMEOUT');
  t.true(Number(one[2]) >= 900 && Number(one[2]) < 3_000, `blocked ${one[2]} ms for timeout_s = 1`);
  t.is(one[3], '1', 'the other thread finished while the query was blocked');
  t.is(one[4], '0', 'the cached plan (none) comes with the timeout');
  await gw.exited;
  t.deepEqual(sanitizerReports(gw.stderr()), []);
});

test.serial('the sanitizer setup is live: a use-after-free in firmware code is reported by AddressSanitizer', async (t) => {
  const dir = tempDir(t);
  const fw = buildFirmware(join(TEST_FW, 'fw_test.c'), dir, 'fw_test');
  const gw = runFirmware(fw, ['use-after-free']);
  t.teardown(() => gw.stop());
  const code = await gw.exited;
  t.not(code, 0);
  t.true(gw.stderr().includes('ERROR: AddressSanitizer: heap-use-after-free'), gw.stderr());
  t.true(sanitizerReports(gw.stderr()).length > 0);
});
