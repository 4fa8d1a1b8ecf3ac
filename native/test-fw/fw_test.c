/* fw_test.c - a test firmware for test/native: one scenario per run, chosen by argv[1].
 *
 *   stall                       P2P with 100/200/400 KB watermarks and 20 KB per send_get;
 *                               prints every event with its handle, get_send_buf/_status
 *                               from inside send_get, buffers returned and freed
 *   bad H264 BFRAMES OTHERSIZE  bad input to every function; prints "check NAME=CODE"
 *   snapshot H264               cloud event with a JPEG snapshot, one without, one whose
 *                               capture callback fails after setting a picture
 *   use-after-free              a write to freed memory (ASan must report it)
 *   noplan H264                 no cloud plan: no push_start, pushes and events refused; the
 *                               calls come from a thread the firmware starts itself
 *   trial                       iv_cs_init and the balance under a free-trial plan: prints its
 *                               cs_switch, cs_type and free_trial_remaining_sec
 *   balance                     iv_cs_get_balance_info(…, 1) against a store that never answers
 *                               while another thread calls the API (only the caller blocks)
 *   push-bench H264 N           N iv_cs_push_stream calls of the file's access units, back to back
 *
 * Lines start with "fw: " and are flushed at once. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include "iv_av.h"
#include "iv_cs.h"

static long g_returned, g_freed;
static volatile int g_started, g_pic_results;
static uint8_t *g_pic, *g_pic_failed;

static void say(const char *fmt, ...)
{
    /* one write(2) per line: the runtime writes to the same stdout, a pipe keeps writes <= PIPE_BUF whole */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + 4, sizeof(line) - 5, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n > sizeof(line) - 6) {
        n = (int)(sizeof(line) - 6);
    }
    memcpy(line, "fw: ", 4);
    line[4 + n] = '\n';
    fflush(stdout);
    ssize_t w = write(1, line, (size_t)n + 5);
    (void)w;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void free_buf(uint8_t *buf, size_t size)
{
    (void)size;
    free(buf);
    __atomic_add_fetch(&g_freed, 1, __ATOMIC_SEQ_CST);
}

/* ------------------------------------------------------------------ P2P */
static int g_stall_handle_tag;
static long g_gets;
static int g_stats_lines;

static void *stall_init(const char *params, const char *peer)
{
    say("send_init params=%s peer=%s handle=%p", params, peer, (void *)&g_stall_handle_tag);
    return &g_stall_handle_tag;
}

static iv_cm_memory_s stall_get(void *handle)
{
    iv_cm_memory_s m = {NULL, 0, NULL};
    long n = __atomic_add_fetch(&g_gets, 1, __ATOMIC_SEQ_CST);
    /* every 10th get until one saw unacknowledged bytes (at most 5 lines): on a loaded machine
       the first gets can all come before the runtime sent anything */
    if (n % 10 == 0 && g_stats_lines < 5) {
        size_t buf = iv_avt_p2p_get_send_buf(handle);
        iv_p2p_send_stats_s st = iv_avt_p2p_get_send_status(handle);
        say("stats buf=%zu inst=%u ave=%u acked=%llu", buf, st.inst_net_rate, st.ave_sent_rate, (unsigned long long)st.sum_sent_acked);
        g_stats_lines = buf > 0 ? 5 : g_stats_lines + 1;
    }
    m.buf = malloc(20000);
    if (!m.buf) {
        return m;
    }
    memset(m.buf, (int)(n & 0xff), 20000);
    m.size = 20000;
    m.buf_free_fn = free_buf;
    __atomic_add_fetch(&g_returned, 1, __ATOMIC_SEQ_CST);
    return m;
}

static int stall_stop(void *handle)
{
    say("send_stop handle=%p returned=%ld freed=%ld", handle, __atomic_load_n(&g_returned, __ATOMIC_SEQ_CST), __atomic_load_n(&g_freed, __ATOMIC_SEQ_CST));
    return 0;
}

static void stall_event(iv_avt_event_e e, void *handle)
{
    say("event %d handle=%p gets=%ld", (int)e, handle, __atomic_load_n(&g_gets, __ATOMIC_SEQ_CST));
}

static int run_stall(void)
{
    iv_p2p_parm_s cb;
    memset(&cb, 0, sizeof(cb));
    cb.p2p_handle_send_init_cb = stall_init;
    cb.p2p_handle_send_get_cb = stall_get;
    cb.p2p_handle_send_stop_cb = stall_stop;
    cb.p2p_handle_event_notify_cb = stall_event;
    int ret = iv_avt_p2p_init(&cb);
    int wm = iv_avt_p2p_set_buf_watermark(100000, 200000, 400000);
    say("ready init=%d watermark=%d", ret, wm);
    for (;;) {
        sleep_ms(250);
        say("tick gets=%ld", __atomic_load_n(&g_gets, __ATOMIC_SEQ_CST));
    }
    return 0;
}

/* ------------------------------------------------------------------ media for the cloud cases */
typedef struct {
    uint8_t *data;
    size_t len, pos;
} media_s;

static int load(media_s *m, const char *path)
{
    memset(m, 0, sizeof(*m));
    FILE *fp = path ? fopen(path, "rb") : NULL;
    if (!fp) {
        return -1;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    m->data = malloc(n > 0 ? (size_t)n : 1);
    m->len = m->data && n > 0 ? fread(m->data, 1, (size_t)n, fp) : 0;
    fclose(fp);
    return m->len > 0 ? 0 : -1;
}

static size_t next_sc(const media_s *m, size_t from)
{
    for (size_t i = from; i + 3 < m->len; i++) {
        if (m->data[i] == 0 && m->data[i + 1] == 0 && (m->data[i + 2] == 1 || (m->data[i + 2] == 0 && m->data[i + 3] == 1))) {
            return i;
        }
    }
    return m->len;
}

/* next access unit (parameter sets + one slice); *slice_type: first_mb... not parsed, NAL type only */
static size_t next_au(media_s *m, const uint8_t **au, int *idr, size_t *slice_off)
{
    if (m->pos >= m->len) {
        m->pos = 0;
    }
    size_t start = next_sc(m, m->pos), at = start;
    *idr = 0;
    *slice_off = 0;
    while (at < m->len) {
        size_t sc = m->data[at + 2] == 1 ? 3 : 4;
        int nal = m->data[at + sc] & 0x1f;
        size_t end = next_sc(m, at + sc);
        if (nal == 1 || nal == 5) {
            *idr = nal == 5;
            *slice_off = at - start;
            at = end;
            break;
        }
        at = end;
    }
    *au = m->data + start;
    m->pos = at;
    return at - start;
}

static int push_video(const uint8_t *au, size_t len, int idr, uint64_t pts)
{
    iv_cm_venc_pack_s v;
    memset(&v, 0, sizeof(v));
    v.pu8Addr = (uint8_t *)au;
    v.u32Len = (uint32_t)len;
    v.u64PTS = pts;
    v.eFrameType = idr ? IV_CM_FRAME_TYPE_I : IV_CM_FRAME_TYPE_P;
    return iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &v);
}

static int32_t cs_start(void)
{
    say("push_start");
    g_started = 1;
    return 0;
}

static int32_t cs_stop(void)
{
    say("push_stop");
    return 0;
}

static int32_t capture_cb(int32_t event_id, uint8_t **pic, int32_t *size)
{
    if (event_id == 4) { /* an event without picture */
        *pic = NULL;
        *size = 0;
        say("capture event=%d none", (int)event_id);
        return 0;
    }
    int32_t n = 2000;
    uint8_t *b = malloc((size_t)n);
    if (!b) {
        return -1;
    }
    if (event_id == 5) { /* the camera failed mid-capture: a buffer set, and an error returned */
        memset(b, 0, (size_t)n);
        g_pic_failed = b;
        *pic = b;
        *size = n;
        say("capture event=%d pic=%p failed", (int)event_id, (void *)b);
        return -1;
    }
    memset(b, 0x20, (size_t)n);
    const uint8_t head[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00};
    memcpy(b, head, sizeof(head));
    b[n - 2] = 0xff;
    b[n - 1] = 0xd9;
    g_pic = b;
    *pic = b;
    *size = n;
    say("capture event=%d pic=%p size=%d", (int)event_id, (void *)b, (int)n);
    return 0;
}

static int32_t picture_result_cb(uint8_t **pic, int32_t err_code)
{
    if (pic && *pic && *pic == g_pic_failed) {
        say("picture_result failed pic=%p err=%d", (void *)*pic, (int)err_code);
        free(*pic);
        g_pic_failed = NULL;
        __atomic_add_fetch(&g_pic_results, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    int same = pic && *pic == g_pic;
    say("picture_result pic=%p same=%d err=%d", pic ? (void *)*pic : NULL, same, (int)err_code);
    if (same) {
        free(*pic); /* the SDK is done with it: the firmware reclaims the snapshot now */
        g_pic = NULL;
    }
    __atomic_add_fetch(&g_pic_results, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static void fill_fmt(iv_cs_init_parm_s *p)
{
    memset(p, 0, sizeof(*p));
    p->u32MaxGopSize = 512 * 1024;
    p->av_fmt.eAudioType = IV_CM_AENC_TYPE_AAC;
    p->av_fmt.u32AudioCodecOption = IV_CM_AAC_TYPE_LC;
    p->av_fmt.eAudioMode = IV_CM_AENC_MODE_MONO;
    p->av_fmt.eAudioBitWidth = IV_CM_AENC_BIT_WIDTH_16;
    p->av_fmt.eAudioSampleRate = IV_CM_AENC_SAMPLE_RATE_16000;
    p->av_fmt.u32SampleNumPerFrame = 1024;
    p->av_fmt.eVideoType = IV_CM_VENC_TYPE_H264;
    p->av_fmt.u32Framerate = 25;
    p->iv_cs_push_stream_start_cb = cs_start;
    p->iv_cs_push_stream_stop_cb = cs_stop;
    p->iv_cs_event_capture_picture_cb = capture_cb;
    p->iv_cs_event_picture_result_cb = picture_result_cb;
}

#define CHECK(name, expr) say("check %s=%d", name, (int)(expr))

static iv_cm_memory_s noop_get(void *h)
{
    (void)h;
    iv_cm_memory_s m = {NULL, 0, NULL};
    return m;
}
static void *noop_init(const char *a, const char *b)
{
    (void)a;
    (void)b;
    return NULL;
}
static int noop_stop(void *h)
{
    (void)h;
    return 0;
}

static int run_bad(char **argv)
{
    media_s good, bframes, other;
    if (load(&good, argv[2]) || load(&bframes, argv[3]) || load(&other, argv[4])) {
        say("usage: bad H264 BFRAMES OTHERSIZE");
        return 2;
    }
    iv_cm_venc_pack_s v;
    iv_cm_aenc_pack_s a;
    uint8_t byte = 0;
    memset(&v, 0, sizeof(v));
    memset(&a, 0, sizeof(a));

    /* ---- P2P ---- */
    CHECK("p2p_exit_before_init", iv_avt_p2p_exit());
    CHECK("p2p_init_null", iv_avt_p2p_init(NULL));
    iv_p2p_parm_s cb;
    memset(&cb, 0, sizeof(cb));
    cb.p2p_handle_send_init_cb = noop_init;
    cb.p2p_handle_send_stop_cb = noop_stop;
    CHECK("p2p_init_cb_null", iv_avt_p2p_init(&cb));
    cb.p2p_handle_send_get_cb = noop_get;
    cb.p2p_keep_alive.time_inter_s = 5;
    cb.p2p_keep_alive.max_attempt_num = 11;
    CHECK("p2p_init_keepalive_range", iv_avt_p2p_init(&cb));
    cb.p2p_keep_alive.max_attempt_num = 0;
    cb.p2p_keep_alive.time_inter_s = 0;
    CHECK("p2p_init", iv_avt_p2p_init(&cb));
    CHECK("p2p_init_twice", iv_avt_p2p_init(&cb));
    CHECK("p2p_watermark_order", iv_avt_p2p_set_buf_watermark(500, 400, 300));
    CHECK("p2p_watermark_huge", iv_avt_p2p_set_buf_watermark((size_t)-1, (size_t)-1, (size_t)-1));
    CHECK("p2p_watermark_zero", iv_avt_p2p_set_buf_watermark(0, 0, 0));
    CHECK("p2p_send_buf_unknown", (int)iv_avt_p2p_get_send_buf((void *)&byte));
    iv_p2p_send_stats_s st = iv_avt_p2p_get_send_status(NULL);
    CHECK("p2p_send_status_null", (int)(st.inst_net_rate + st.ave_sent_rate + st.sum_sent_acked));
    CHECK("p2p_exit", iv_avt_p2p_exit());
    CHECK("p2p_exit_twice", iv_avt_p2p_exit());
    cb.p2p_keep_alive.time_inter_s = 1;
    cb.p2p_keep_alive.max_attempt_num = 2;
    CHECK("p2p_init_keepalive", iv_avt_p2p_init(&cb));
    CHECK("p2p_exit_keepalive", iv_avt_p2p_exit());

    /* ---- cloud before init ---- */
    v.pu8Addr = &byte;
    v.u32Len = 1;
    CHECK("cs_push_before_init", iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &v));
    CHECK("cs_exit_before_init", iv_cs_exit());
    CHECK("cs_event_before_init", iv_cs_event_start(1));
    CHECK("cs_balance_null", iv_cs_get_balance_info(NULL, 0));
    iv_cs_balance_info_s bal;
    CHECK("cs_balance_timeout_range", iv_cs_get_balance_info(&bal, 4000));

    /* ---- cloud init ---- */
    iv_cs_init_parm_s p;
    CHECK("cs_init_null", iv_cs_init(NULL));
    fill_fmt(&p);
    p.iv_cs_push_stream_start_cb = NULL;
    CHECK("cs_init_cb_null", iv_cs_init(&p));
    fill_fmt(&p);
    p.iv_cs_event_picture_result_cb = NULL;
    CHECK("cs_init_result_cb_null", iv_cs_init(&p));
    fill_fmt(&p);
    p.u32MaxGopSize = 1000;
    CHECK("cs_init_gop_not_4k", iv_cs_init(&p));
    fill_fmt(&p);
    p.u32MaxGopSize = 0;
    CHECK("cs_init_gop_zero", iv_cs_init(&p));
    fill_fmt(&p);
    p.av_fmt.eVideoType = IV_CM_VENC_TYPE_MJPG;
    CHECK("cs_init_mjpg", iv_cs_init(&p));
    fill_fmt(&p);
    p.av_fmt.eVideoType = (iv_cm_venc_type_e)9;
    CHECK("cs_init_video_type_range", iv_cs_init(&p));
    fill_fmt(&p);
    p.av_fmt.eAudioType = IV_CM_AENC_TYPE_G726;
    CHECK("cs_init_g726", iv_cs_init(&p));
    fill_fmt(&p);
    p.av_fmt.eAudioBitWidth = IV_CM_AENC_BIT_WIDTH_8;
    CHECK("cs_init_8bit", iv_cs_init(&p));
    fill_fmt(&p);
    p.av_fmt.eAudioSampleRate = (iv_cm_aenc_sample_rate_e)12345;
    CHECK("cs_init_rate_range", iv_cs_init(&p));
    fill_fmt(&p);
    p.av_fmt.eAudioType = IV_CM_AENC_TYPE_PCM;
    p.av_fmt.u32SampleNumPerFrame = 160;
    CHECK("cs_init_pcm_160_samples", iv_cs_init(&p));
    p.av_fmt.u32SampleNumPerFrame = 0;
    CHECK("cs_init_pcm_0_samples", iv_cs_init(&p));
    fill_fmt(&p);
    CHECK("cs_init", iv_cs_init(&p));
    CHECK("cs_init_twice", iv_cs_init(&p));
    for (int i = 0; i < 300 && !g_started; i++) {
        sleep_ms(10);
    }

    /* ---- push_stream ---- */
    CHECK("cs_push_null_pack", iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, NULL));
    CHECK("cs_push_stream_type", iv_cs_push_stream((iv_cm_stream_type_e)7, &v));
    v.u32Len = 0;
    CHECK("cs_push_len_zero", iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &v));
    v.u32Len = 0xffffffffu;
    CHECK("cs_push_len_huge", iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &v));
    v.pu8Addr = NULL;
    v.u32Len = 100;
    CHECK("cs_push_addr_null", iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &v));
    a.pu8Addr = NULL;
    a.u32Len = 10;
    CHECK("cs_push_audio_addr_null", iv_cs_push_stream(IV_CM_STREAM_TYPE_AUDIO, &a));
    const uint8_t *au;
    int idr;
    size_t slice;
    size_t n = next_au(&good, &au, &idr, &slice); /* the first AU: SPS PPS (SEI) IDR */
    v.pu8Addr = (uint8_t *)au;
    v.u32Len = (uint32_t)n;
    v.eFrameType = (iv_cm_frame_type_e)5;
    CHECK("cs_push_frame_type", iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &v));
    CHECK("cs_push_idr_without_sps", push_video(au + slice, n - slice, 1, 0));
    CHECK("cs_push_idr", push_video(au, n, idr, 0));
    const uint8_t *p_au;
    int p_idr;
    size_t p_slice;
    size_t pn = next_au(&good, &p_au, &p_idr, &p_slice);
    CHECK("cs_push_p", push_video(p_au, pn, p_idr, 40));
    CHECK("cs_push_p_marked_i", push_video(p_au, pn, 1, 80));
    uint8_t junk[64];
    memset(junk, 0xab, sizeof(junk));
    CHECK("cs_push_garbage", push_video(junk, sizeof(junk), 0, 120));
    a.pu8Addr = junk;
    a.u32Len = sizeof(junk);
    a.u64PTS = 100;
    CHECK("cs_push_audio_garbage", iv_cs_push_stream(IV_CM_STREAM_TYPE_AUDIO, &a));
    /* B-frames: push the B-frame stream's AUs (decode order) until a refusal */
    int bcode = 0;
    for (int i = 0; i < 12 && bcode == 0; i++) {
        size_t bn = next_au(&bframes, &au, &idr, &slice);
        bcode = push_video(au, bn, idr, 200 + 40 * (uint64_t)i);
    }
    CHECK("cs_push_b_frames", bcode);
    /* a format change: the other size's IDR (after good frames again) */
    size_t on = next_au(&other, &au, &idr, &slice);
    CHECK("cs_push_format_change", push_video(au, on, idr, 1000));

    /* ---- events, balance, trans time ---- */
    CHECK("cs_event_id_zero", iv_cs_event_start(0));
    CHECK("cs_event_id_17", iv_cs_event_start(17));
    CHECK("cs_event_stop_not_running", iv_cs_event_stop(5));
    CHECK("cs_event_start", iv_cs_event_start(2));
    CHECK("cs_event_start_again", iv_cs_event_start(2));
    CHECK("cs_event_stop_ext_of_plain", iv_cs_event_stop_ext(2, 0, 0));
    CHECK("cs_event_stop", iv_cs_event_stop(2));
    CHECK("cs_event_ext_mixed", iv_cs_event_start_ext(3, 10, 1000));
    CHECK("cs_event_ext_future", iv_cs_event_start_ext(3, (uint32_t)time(NULL) + 3600, (uint32_t)time(NULL) + 3600));
    CHECK("cs_event_ext", iv_cs_event_start_ext(4, 5, 5));
    CHECK("cs_event_stop_ext", iv_cs_event_stop_ext(4, 0, 0));
    memset(&bal, 0x7f, sizeof(bal));
    CHECK("cs_balance_cached", iv_cs_get_balance_info(&bal, 0));
    CHECK("cs_balance_switch", bal.cs_switch);
    CHECK("cs_balance_type", (int)bal.cs_type);
    CHECK("cs_trans_time_zero", iv_cs_set_trans_time(0, 1000));
    CHECK("cs_trans_time", iv_cs_set_trans_time(1000, 5000));
    CHECK("cs_exit", iv_cs_exit());
    CHECK("cs_push_after_exit", push_video(au, on, idr, 2000));
    CHECK("cs_exit_twice", iv_cs_exit());
    CHECK("cs_event_after_exit", iv_cs_event_stop(2));
    say("bad done pic_results=%d", (int)g_pic_results);
    free(good.data);
    free(bframes.data);
    free(other.data);
    return 0;
}

static int run_snapshot(char **argv)
{
    media_s good;
    if (load(&good, argv[2])) {
        say("usage: snapshot H264");
        return 2;
    }
    iv_cs_init_parm_s p;
    fill_fmt(&p);
    int ret = iv_cs_init(&p);
    say("init ret=%d", ret);
    for (int i = 0; i < 300 && !g_started; i++) {
        sleep_ms(10);
    }
    const uint8_t *au;
    int idr;
    size_t slice;
    uint64_t pts = 0;
    for (int i = 0; i < 30; i++, pts += 40) {
        size_t n = next_au(&good, &au, &idr, &slice);
        push_video(au, n, idr, pts);
        sleep_ms(5);
    }
    say("event_start 3 ret=%d", iv_cs_event_start(3));
    say("event_start 4 ret=%d", iv_cs_event_start(4));
    say("event_start 5 ret=%d", iv_cs_event_start(5));
    for (int i = 0; i < 100; i++, pts += 40) {
        size_t n = next_au(&good, &au, &idr, &slice);
        push_video(au, n, idr, pts);
        sleep_ms(10);
    }
    say("event_stop 3 ret=%d", iv_cs_event_stop(3));
    say("event_stop 4 ret=%d", iv_cs_event_stop(4));
    say("event_stop 5 ret=%d", iv_cs_event_stop(5));
    for (int i = 0; i < 500 && g_pic_results < 2; i++) {
        sleep_ms(10);
    }
    ret = iv_cs_exit();
    say("snapshot done exit=%d pic_results=%d", ret, (int)g_pic_results);
    free(good.data);
    return 0;
}

static int run_push_bench(char **argv)
{
    media_s good;
    long n = atol(argv[3]);
    if (load(&good, argv[2]) || n <= 0) {
        say("usage: push-bench H264 N");
        return 2;
    }
    iv_cs_init_parm_s p;
    fill_fmt(&p);
    p.u32MaxGopSize = 1024 * 1024;
    p.iv_cs_event_capture_picture_cb = NULL;
    p.iv_cs_event_picture_result_cb = NULL;
    int ret = iv_cs_init(&p);
    for (int i = 0; i < 300 && !g_started; i++) {
        sleep_ms(10);
    }
    const uint8_t *au;
    int idr;
    size_t slice;
    long refused = 0;
    unsigned long long bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        size_t len = next_au(&good, &au, &idr, &slice);
        if (push_video(au, len, idr, (uint64_t)i * 40) != IV_ERR_NONE) {
            refused++;
        }
        bytes += len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    say("bench push init=%d calls=%ld bytes=%llu ns=%lld refused=%ld", ret, n, bytes, ns, refused);
    iv_cs_exit();
    free(good.data);
    return 0;
}

static void *noplan_thread(void *arg)
{
    media_s *good = arg;
    iv_cs_init_parm_s p;
    fill_fmt(&p);
    CHECK("noplan_init", iv_cs_init(&p));
    iv_cs_balance_info_s bal;
    memset(&bal, 0x7f, sizeof(bal));
    CHECK("noplan_balance", iv_cs_get_balance_info(&bal, 2));
    CHECK("noplan_balance_switch", bal.cs_switch);
    CHECK("noplan_balance_type", (int)bal.cs_type);
    sleep_ms(1000);
    CHECK("noplan_started", g_started);
    const uint8_t *au;
    int idr;
    size_t slice;
    size_t n = next_au(good, &au, &idr, &slice);
    CHECK("noplan_push", push_video(au, n, idr, 0));
    CHECK("noplan_event", iv_cs_event_start(1));
    CHECK("noplan_exit", iv_cs_exit());
    return NULL;
}

static int run_trial(void)
{
    iv_cs_init_parm_s p;
    fill_fmt(&p);
    int ret = iv_cs_init(&p);
    iv_cs_balance_info_s bal;
    memset(&bal, 0x7f, sizeof(bal));
    int code = iv_cs_get_balance_info(&bal, 2);
    say("trial init=%d balance=%d switch=%d type=%d remaining=%d days=%d", ret, code, bal.cs_switch, (int)bal.cs_type, bal.free_trial_remaining_sec, bal.cs_days);
    say("trial exit=%d", iv_cs_exit());
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static volatile long long g_other_done_at;

static void *other_caller(void *arg)
{
    (void)arg;
    sleep_ms(100);
    long long t0 = now_ms();
    int ret = iv_avt_p2p_set_buf_watermark(0, 0, 0);
    g_other_done_at = now_ms();
    say("other ret=%d ms=%lld", ret, g_other_done_at - t0);
    return NULL;
}

static int run_balance(void)
{
    iv_cs_balance_info_s bal;
    memset(&bal, 0, sizeof(bal));
    long long t0 = now_ms();
    int ret = iv_cs_get_balance_info(&bal, 0);
    say("balance0 ret=%d ms=%lld", ret, now_ms() - t0);
    pthread_t th;
    pthread_create(&th, NULL, other_caller, NULL);
    t0 = now_ms();
    ret = iv_cs_get_balance_info(&bal, 1);
    long long end = now_ms();
    pthread_join(th, NULL);
    say("balance1 ret=%d ms=%lld other_before=%d switch=%d", ret, end - t0, g_other_done_at != 0 && g_other_done_at < end, bal.cs_switch);
    return 0;
}

static int run_noplan(char **argv)
{
    media_s good;
    if (load(&good, argv[2])) {
        say("usage: noplan H264");
        return 2;
    }
    pthread_t th;
    pthread_create(&th, NULL, noplan_thread, &good);
    pthread_join(th, NULL);
    say("noplan done");
    free(good.data);
    return 0;
}

static iv_cm_memory_s overflow_get(void *h)
{
    (void)h;
    iv_cm_memory_s m = {NULL, 0, NULL};
    return m;
}

static int run_use_after_free(void)
{
    static char *volatile dangling;
    char *p = malloc(16);
    dangling = p;
    say("writing to freed memory");
    free(p);
    dangling[3] = 1; /* ASan reports a heap-use-after-free (UBSan cannot see this one) */
    (void)overflow_get;
    return 0;
}

int iv_firmware_main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "stall") == 0) {
        return run_stall();
    }
    if (strcmp(mode, "bad") == 0 && argc > 4) {
        return run_bad(argv);
    }
    if (strcmp(mode, "snapshot") == 0 && argc > 2) {
        return run_snapshot(argv);
    }
    if (strcmp(mode, "balance") == 0) {
        return run_balance();
    }
    if (strcmp(mode, "trial") == 0) {
        return run_trial();
    }
    if (strcmp(mode, "noplan") == 0 && argc > 2) {
        return run_noplan(argv);
    }
    if (strcmp(mode, "push-bench") == 0 && argc > 3) {
        return run_push_bench(argv);
    }
    if (strcmp(mode, "use-after-free") == 0) {
        return run_use_after_free();
    }
    say("unknown mode %s", mode);
    return 2;
}
