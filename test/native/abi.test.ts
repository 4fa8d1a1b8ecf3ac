/**
 * The headers are the vendor's ABI: every value, member order and member type of
 * ../shared/spec/c-abi.md and the spec pages, checked by compiling C against
 * native/include (static assertions, so a wrong number fails the build); every runtime
 * IV_ERR_* code maps to a number iv_err.h defines.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/media.js';
import { IV, RUNTIME_CODES, vendorCode, type VendorContext } from '../../native/vendor-codes.js';
import { INCLUDE } from './firmware.js';

const ENUMS: Record<string, number> = {
  IV_ERR_NONE: 0,
  IV_ERR_AVT_INIT_PRM_NULL: -300, IV_ERR_AVT_INIT_CB_NULL: -301, IV_ERR_AVT_INIT_PRM_RANGE: -302, IV_ERR_AVT_REQ_CHN_BUSY: -303,
  IV_ERR_AVT_SEND_STREAM_TOO_BIG: -304, IV_ERR_AVT_CHN_NOT_EXIT: -305, IV_ERR_AVT_NEED_IDR_FRAME: -306, IV_ERR_AVT_MALLOC_BUFFER_FAILED: -307,
  IV_ERR_AVT_FAILED: -308, IV_ERR_AVT_INPUT_PARAM_NULL: -309, IV_ERR_AVT_INPUT_PARAM_INVAILD: -310, IV_ERR_AVT_SEND_DATA_TIMEOUT: -311,
  IV_ERR_AVT_STATE_ERROR: -312, IV_ERR_AVT_VIDEO_DATA_ERROR: -313,
  IV_ERR_CS_INIT_PRM_NULL: -600, IV_ERR_CS_INIT_CB_NULL: -601, IV_ERR_CS_INIT_PRM_RANGE: -602, IV_ERR_CS_UPLOAD_AUTH_NOT_AVAILABLE: -603,
  IV_ERR_CS_UPLOAD_OPEN_FILE_FAIL: -604, IV_ERR_CS_PRM_NOT_AVAILABLE: -605, IV_ERR_CS_PRM_MALLOC_FAIL: -606, IV_ERR_CS_APPLY_NO_SERVICE: -607,
  IV_ERR_CS_QUERY_SERVICE_TIMEOUT: -608, IV_ERR_CS_EVENT_IS_VALID: -609, IV_ERR_CS_INIT_REPEAT: -610, IV_ERR_CS_NEED_IDR_FRAME: -611,
  IV_ERR_CS_NO_BALANCE: -612, IV_ERR_CS_HTTP_DATA_FAIL: -613,
  IV_ERR_SYS_INIT_PRM_NULL: -100, IV_ERR_SYS_INIT_CB_NULL: -101, IV_ERR_SYS_INIT_PRM_RANGE: -102, IV_ERR_SYS_NOT_SUPPORT: -105,
  IV_ERR_SYS_MALLOC_FAIL: -108, IV_ERR_SYS_COMMUNICATE_FAIL: -109, IV_ERR_SYS_COMMUNICATE_TIMEOUT: -110,
  IV_ERR_DEVICE_OFFLINE: -1001,
  IV_CM_STREAM_TYPE_AUDIO: 0, IV_CM_STREAM_TYPE_VIDEO: 1, IV_CM_STREAM_TYPE_BUTT: 2,
  IV_CM_FRAME_TYPE_I: 0, IV_CM_FRAME_TYPE_P: 1, IV_CM_FRAME_TYPE_BUTT: 2,
  IV_CM_VENC_TYPE_H264: 0, IV_CM_VENC_TYPE_H265: 1, IV_CM_VENC_TYPE_MJPG: 2, IV_CM_VENC_TYPE_BUTT: 3,
  IV_CM_AENC_TYPE_PCM: 0, IV_CM_AENC_TYPE_G711A: 1, IV_CM_AENC_TYPE_G711U: 2, IV_CM_AENC_TYPE_G726: 3, IV_CM_AENC_TYPE_AAC: 4,
  IV_CM_AENC_TYPE_AMR: 5, IV_CM_AENC_TYPE_ADPCMA: 6, IV_CM_AENC_TYPE_BUTT: 7,
  IV_CM_AAC_TYPE_NONE: 0, IV_CM_AAC_TYPE_MAIN: 1, IV_CM_AAC_TYPE_LC: 2, IV_CM_AAC_TYPE_SSR: 3, IV_CM_AAC_TYPE_LTP: 4, IV_CM_AAC_TYPE_SBR: 5,
  IV_CM_AAC_TYPE_SCALCBLE: 6, IV_CM_AAC_TYPE_TWINVQ: 7, IV_CM_AAC_TYPE_CELP: 8, IV_CM_AAC_TYPE_HVXC: 9, IV_CM_AAC_TYPE_BUTT: 10,
  IV_CM_AENC_MODE_MONO: 0, IV_CM_AENC_MODE_STEREO: 1, IV_CM_AENC_MODE_BUTT: 2,
  IV_CM_AENC_BIT_WIDTH_8: 0, IV_CM_AENC_BIT_WIDTH_16: 1, IV_CM_AENC_BIT_WIDTH_24: 2, IV_CM_AENC_BIT_WIDTH_BUTT: 3,
  IV_CM_AENC_SAMPLE_RATE_8000: 8000, IV_CM_AENC_SAMPLE_RATE_11025: 11025, IV_CM_AENC_SAMPLE_RATE_12000: 12000, IV_CM_AENC_SAMPLE_RATE_16000: 16000,
  IV_CM_AENC_SAMPLE_RATE_22050: 22050, IV_CM_AENC_SAMPLE_RATE_24000: 24000, IV_CM_AENC_SAMPLE_RATE_32000: 32000, IV_CM_AENC_SAMPLE_RATE_44100: 44100,
  IV_CM_AENC_SAMPLE_RATE_48000: 48000, IV_CM_AENC_SAMPLE_RATE_64000: 64000, IV_CM_AENC_SAMPLE_RATE_96000: 96000,
  IV_AVT_EVENT_P2P_PEER_READY: 0, IV_AVT_EVENT_P2P_PEER_CONNECT_FAIL: 1, IV_AVT_EVENT_P2P_PEER_ERROR: 2, IV_AVT_EVENT_P2P_PEER_ADDR_CHANGED: 3,
  IV_AVT_EVENT_P2P_WATERMARK_LOW: 4, IV_AVT_EVENT_P2P_WATERMARK_WARN: 5, IV_AVT_EVENT_P2P_WATERMARK_HIGH: 6, IV_AVT_EVENT_P2P_BUTT: 7,
  CS_TYPE_NONE: 0, CS_TYPE_FULL_TIME: 1, CS_TYPE_EVENT: 2, CS_TYPE_FREE_TRIAL: 3,
};

/** struct: [member, C type] in order (function pointers as their type text). */
const STRUCTS: Record<string, [string, string][]> = {
  iv_cm_memory_s: [['buf', 'uint8_t *'], ['size', 'size_t'], ['buf_free_fn', 'void (*)(uint8_t *, size_t)']],
  iv_cm_venc_pack_s: [['pu8Addr', 'uint8_t *'], ['u32Len', 'uint32_t'], ['u64PTS', 'uint64_t'], ['eFrameType', 'iv_cm_frame_type_e'], ['u32Seq', 'uint32_t']],
  iv_cm_aenc_pack_s: [['pu8Addr', 'uint8_t *'], ['u32Len', 'uint32_t'], ['u64PTS', 'uint64_t'], ['u32Seq', 'uint32_t']],
  iv_cm_av_data_info_s: [['eAudioType', 'iv_cm_aenc_type_e'], ['u32AudioCodecOption', 'iv_cm_aac_type_e'], ['eAudioMode', 'iv_cm_aenc_mode_e'], ['eAudioBitWidth', 'iv_cm_aenc_bit_width_e'],
    ['eAudioSampleRate', 'iv_cm_aenc_sample_rate_e'], ['u32SampleNumPerFrame', 'uint32_t'], ['eVideoType', 'iv_cm_venc_type_e'], ['u32VideoWidth', 'uint32_t'], ['u32VideoHeight', 'uint32_t'],
    ['u32Framerate', 'uint32_t'], ['u32Reserve', 'uint32_t[4]']],
  p2p_keep_alive_cfg: [['time_inter_s', 'uint8_t'], ['max_attempt_num', 'uint8_t']],
  iv_p2p_parm_s: [['p2p_handle_send_init_cb', 'void *(*)(const char *, const char *)'], ['p2p_handle_send_get_cb', 'iv_cm_memory_s (*)(void *)'], ['p2p_handle_send_stop_cb', 'int (*)(void *)'],
    ['p2p_handle_event_notify_cb', 'void (*)(iv_avt_event_e, void *)'], ['p2p_handle_recv_init_cb', 'void *(*)(const char *, const char *)'],
    ['p2p_handle_recv_voice_cb', 'void (*)(void *, uint8_t *, size_t)'], ['p2p_handle_command_cb', 'iv_cm_memory_s (*)(const char *, size_t, const char *)'], ['p2p_keep_alive', 'p2p_keep_alive_cfg']],
  iv_p2p_send_stats_s: [['inst_net_rate', 'uint32_t'], ['ave_sent_rate', 'uint32_t'], ['sum_sent_acked', 'uint64_t']],
  iv_cs_balance_info_s: [['cs_switch', 'int'], ['cs_days', 'int'], ['cs_type', 'iv_cs_type_e'], ['free_trial_remaining_sec', 'int']],
  iv_cs_init_parm_s: [['u32MaxGopSize', 'uint32_t'], ['av_fmt', 'iv_cm_av_data_info_s'], ['iv_cs_push_stream_start_cb', 'int32_t (*)(void)'], ['iv_cs_push_stream_stop_cb', 'int32_t (*)(void)'],
    ['iv_cs_event_capture_picture_cb', 'int32_t (*)(int32_t, uint8_t **, int32_t *)'], ['iv_cs_event_picture_result_cb', 'int32_t (*)(uint8_t **, int32_t)']],
};

const FUNCTIONS: [string, string][] = [
  ['iv_avt_p2p_init', 'int (*)(const iv_p2p_parm_s *)'],
  ['iv_avt_p2p_exit', 'int (*)(void)'],
  ['iv_avt_p2p_set_buf_watermark', 'int (*)(size_t, size_t, size_t)'],
  ['iv_avt_p2p_get_send_buf', 'size_t (*)(void *)'],
  ['iv_avt_p2p_get_send_status', 'iv_p2p_send_stats_s (*)(void *)'],
  ['iv_cs_init', 'iv_err_code_e (*)(iv_cs_init_parm_s *)'],
  ['iv_cs_exit', 'iv_err_code_e (*)(void)'],
  ['iv_cs_push_stream', 'iv_err_code_e (*)(iv_cm_stream_type_e, void *)'],
  ['iv_cs_event_start', 'int (*)(int32_t)'],
  ['iv_cs_event_stop', 'int (*)(int32_t)'],
  ['iv_cs_event_start_ext', 'int (*)(int32_t, uint32_t, uint32_t)'],
  ['iv_cs_event_stop_ext', 'int (*)(int32_t, uint32_t, uint32_t)'],
  ['iv_cs_get_balance_info', 'int (*)(iv_cs_balance_info_s *, uint32_t)'],
  ['iv_cs_set_trans_time', 'int (*)(uint32_t, uint32_t)'],
];

/** A C type text with the name put where a declarator goes: `int (*)(void)` → `int (*x)(void)`, `uint32_t[4]` → `uint32_t x[4]`. */
function declare(type: string, name: string): string {
  if (type.includes('(*)')) {
    return type.replace('(*)', `(*${name})`);
  }
  const arr = /^(.*)\[(\d+)\]$/.exec(type);
  return arr ? `${arr[1]} ${name}[${arr[2]}]` : `${type} ${name}`;
}

test('the headers carry the vendor ABI: every enum value, struct member (order and type) and function prototype', (t) => {
  const dir = tempDir(t);
  const lines = ['#include <stddef.h>', '#include "iv_av.h"', '#include "iv_cs.h"', '#define SAME(T, E) _Static_assert(__builtin_types_compatible_p(T, __typeof__(E)), #E)'];
  for (const [name, value] of Object.entries(ENUMS)) {
    lines.push(`_Static_assert(${name} == ${value}, "${name} == ${value}");`);
  }
  for (const [struct, members] of Object.entries(STRUCTS)) {
    members.forEach(([m, type], i) => {
      lines.push(`typedef ${declare(type, `t_${struct}_${m}`)};`);
      lines.push(`SAME(t_${struct}_${m}, ((${struct} *)0)->${m});`);
      if (i > 0) {
        const prev = (members[i - 1] as [string, string])[0];
        lines.push(`_Static_assert(offsetof(${struct}, ${m}) > offsetof(${struct}, ${prev}), "${struct}: ${prev} before ${m}");`);
      }
    });
  }
  for (const [fn, type] of FUNCTIONS) {
    lines.push(`typedef ${declare(type, `f_${fn}`)};`, `SAME(f_${fn}, &${fn});`);
  }
  // the two names of the audio timestamp are one member (the cloud sample writes u64TimeStamp)
  lines.push('_Static_assert(offsetof(iv_cm_aenc_pack_s, u64TimeStamp) == offsetof(iv_cm_aenc_pack_s, u64PTS), "u64TimeStamp aliases u64PTS");');
  lines.push('_Static_assert(__builtin_types_compatible_p(iv_p2p_parm_s, iv_avt_init_parm_s), "both names of the P2P init struct");');
  lines.push('_Static_assert(__builtin_types_compatible_p(p2p_keep_alive_cfg, struct p2p_keep_alive_s), "p2p_keep_alive_cfg is struct p2p_keep_alive_s");');
  const src = join(dir, 'abi.c');
  writeFileSync(src, `${lines.join('\n')}\n`);
  for (const std of ['gnu11', 'c11', 'gnu99']) {
    const r = spawnSync('gcc', [`-std=${std}`, '-Wall', '-Wextra', '-fsyntax-only', '-I', INCLUDE, src], { encoding: 'utf8' });
    t.is(r.status, 0, `${std}: ${r.stderr}`);
  }
  const cxx = spawnSync('g++', ['-std=c++17', '-Wall', '-fsyntax-only', '-x', 'c++', '-I', INCLUDE, '-'], { input: '#include "iv_av.h"\n#include "iv_cs.h"\nint main() { return IV_ERR_NONE; }\n', encoding: 'utf8' });
  t.is(cxx.status, 0, `the headers compile as C++ too: ${cxx.stderr}`);
});

test('every runtime IV_ERR_* code maps to a number iv_err.h defines, in both modules and at init', (t) => {
  const header = readFileSync(join(INCLUDE, 'iv_err.h'), 'utf8');
  const defined = new Map<string, number>();
  for (const m of header.matchAll(/^\s*(IV_ERR_\w+)\s*=\s*(-?\d+)/gm)) {
    defined.set(m[1] as string, Number(m[2]));
  }
  t.deepEqual(Object.fromEntries(defined), Object.fromEntries(Object.entries(ENUMS).filter(([k]) => k.startsWith('IV_ERR_'))), 'iv_err.h is exactly the vendor list');
  t.deepEqual(Object.fromEntries(Object.entries(IV).map(([k, v]) => [`IV_ERR_${k}`, v])), Object.fromEntries(defined), 'vendor-codes.ts knows the same numbers');
  const numbers = new Set(defined.values());
  for (const code of RUNTIME_CODES) {
    for (const ctx of ['p2p', 'p2p-init', 'cs', 'cs-init'] as VendorContext[]) {
      t.true(numbers.has(vendorCode(code, ctx)), `${code} (${ctx}) -> ${vendorCode(code, ctx)}`);
    }
  }
  t.is(vendorCode('IV_ERR_NONE', 'cs'), 0);
  t.is(vendorCode('IV_ERR_CS_APPLY_NO_SERVICE', 'cs'), -607);
  t.is(vendorCode('IV_ERR_CS_QUERY_SERVICE_TIMEOUT', 'cs'), -608);
  t.is(vendorCode('IV_ERR_INVALID_PARAM', 'p2p-init'), -302);
});
