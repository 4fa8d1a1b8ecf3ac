/* cloud_sample.c - the cloud storage sample of the SDK's cloud page
 * (cloud-storage-module.md, 示例代码) completed into a firmware: it pushes an H.264
 * elementary stream and a 48 kHz ADTS AAC stream in the page's loop, with its
 * timestamps (audio frame_count * 1024 / 48.0 ms, video frame_count * 1000 / 25.0 ms),
 * one frame per 10 ms, between iv_cs_push_stream_start_cb and _stop_cb.
 *
 *   gcc -shared -fPIC -I native/include native/samples/cloud_sample.c -o libcloud_sample.so
 *   ivgw run --firmware ./libcloud_sample.so -- VIDEO.h264 AUDIO_48K.aac [SECONDS]
 *
 * The files loop; SECONDS (default 10) of pushing, then iv_cs_exit and return. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "iv_cs.h"

#define MAX_FRAME (1 << 20)

static volatile int run_flag;
static volatile int started, stopped;

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

/* ---- the media the sample reads: whole files in memory, looped ---- */
typedef struct {
    uint8_t *data;
    size_t len, pos;
} media_s;

static int load(media_s *m, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return -1;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    m->data = malloc(n > 0 ? (size_t)n : 1);
    m->len = m->data && n > 0 ? fread(m->data, 1, (size_t)n, fp) : 0;
    m->pos = 0;
    fclose(fp);
    return m->len > 0 ? 0 : -1;
}

/* one ADTS frame (its header says its length) */
static void get_aac_frame(media_s *m, uint8_t *out, uint32_t *len)
{
    if (m->pos + 7 > m->len) {
        m->pos = 0;
    }
    const uint8_t *p = m->data + m->pos;
    size_t n = ((size_t)(p[3] & 3) << 11) | ((size_t)p[4] << 3) | (p[5] >> 5);
    if (n < 7 || m->pos + n > m->len || n > MAX_FRAME) {
        m->pos = 0;
        *len = 0;
        return;
    }
    memcpy(out, p, n);
    *len = (uint32_t)n;
    m->pos += n;
}

static size_t next_start_code(const media_s *m, size_t from)
{
    for (size_t i = from; i + 3 < m->len; i++) {
        if (m->data[i] == 0 && m->data[i + 1] == 0 && (m->data[i + 2] == 1 || (m->data[i + 2] == 0 && m->data[i + 3] == 1))) {
            return i;
        }
    }
    return m->len;
}

/* one access unit: the parameter sets/SEI before it and one slice (the samples have one slice per picture) */
static void get_video_frame_h264(media_s *m, uint8_t *out, uint32_t *len, iv_cm_frame_type_e *type)
{
    if (m->pos >= m->len) {
        m->pos = 0;
    }
    size_t start = next_start_code(m, m->pos), at = start;
    *type = IV_CM_FRAME_TYPE_P;
    while (at < m->len) {
        size_t sc = m->data[at + 2] == 1 ? 3 : 4;
        int nal = m->data[at + sc] & 0x1f;
        size_t end = next_start_code(m, at + sc);
        at = end;
        if (nal == 5) {
            *type = IV_CM_FRAME_TYPE_I;
        }
        if (nal == 1 || nal == 5) {
            break;
        }
    }
    size_t n = at - start;
    if (n > MAX_FRAME) {
        n = 0;
    }
    memcpy(out, m->data + start, n);
    *len = (uint32_t)n;
    m->pos = at;
}

/* <= 0: audio is due (its time is not after the video's) */
static double compare_time_stamp(uint64_t frame_count_audio, double audio_time_base, uint64_t frame_count_video, double video_time_base)
{
    return frame_count_audio * audio_time_base - frame_count_video * video_time_base;
}

static int32_t push_start_cb(void)
{
    say("push_start");
    started = 1;
    return IV_ERR_NONE;
}

static int32_t push_stop_cb(void)
{
    say("push_stop");
    stopped = 1;
    run_flag = 0;
    return IV_ERR_NONE;
}

int iv_firmware_main(int argc, char **argv)
{
    media_s video, audio;
    if (argc < 3 || load(&video, argv[1]) || load(&audio, argv[2])) {
        say("usage: -- VIDEO.h264 AUDIO_48K.aac [SECONDS]");
        return 2;
    }
    int seconds = argc > 3 ? atoi(argv[3]) : 10;

    iv_cs_balance_info_s balance;
    int ret = iv_cs_get_balance_info(&balance, 2);
    say("balance ret=%d switch=%d days=%d type=%d", ret, balance.cs_switch, balance.cs_days, (int)balance.cs_type);

    iv_cs_init_parm_s parm;
    memset(&parm, 0, sizeof(parm));
    parm.u32MaxGopSize = 1024 * 1024;
    parm.av_fmt.eAudioType = IV_CM_AENC_TYPE_AAC;
    parm.av_fmt.u32AudioCodecOption = IV_CM_AAC_TYPE_LC;
    parm.av_fmt.eAudioMode = IV_CM_AENC_MODE_MONO;
    parm.av_fmt.eAudioBitWidth = IV_CM_AENC_BIT_WIDTH_16;
    parm.av_fmt.eAudioSampleRate = IV_CM_AENC_SAMPLE_RATE_48000;
    parm.av_fmt.u32SampleNumPerFrame = 1024;
    parm.av_fmt.eVideoType = IV_CM_VENC_TYPE_H264;
    parm.av_fmt.u32Framerate = 25;
    parm.iv_cs_push_stream_start_cb = push_start_cb;
    parm.iv_cs_push_stream_stop_cb = push_stop_cb;
    ret = iv_cs_init(&parm);
    say("init ret=%d", ret);
    if (ret != IV_ERR_NONE) {
        return 1;
    }
    for (int i = 0; i < 500 && !started; i++) {
        sleep_ms(10);
    }
    if (!started) {
        say("no push_start within 5 s");
        iv_cs_exit();
        return 1;
    }

    uint8_t *audio_frame_buf = malloc(MAX_FRAME), *video_frame_buf = malloc(MAX_FRAME);
    uint32_t audio_len = 0, video_len = 0;
    iv_cm_frame_type_e frame_type;
    iv_cm_aenc_pack_s audio_pack;
    iv_cm_venc_pack_s video_pack;
    memset(&audio_pack, 0, sizeof(audio_pack));
    memset(&video_pack, 0, sizeof(video_pack));
    uint64_t frame_count_audio = 0, frame_count_video = 0;
    const double audio_time_base = 1024 / 48.0, video_time_base = 1000 / 25.0;
    long pushed[2] = {0, 0}, refused[2] = {0, 0};
    int last_error = 0;
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_flag = 1;

    // 云存推流
    while (run_flag)
    {
        // 调用者主动推流，由调用者保证推送音视频帧的顺序与间隔，否则可能造成音视频不同步
        if (compare_time_stamp(frame_count_audio, audio_time_base, frame_count_video, video_time_base) <= 0)
        {
            frame_count_audio += 1;
            get_aac_frame(&audio, audio_frame_buf, &audio_len);
            audio_pack.pu8Addr = audio_frame_buf;
            audio_pack.u32Len = audio_len;
            audio_pack.u64TimeStamp = (uint64_t)(frame_count_audio * 1024 / 48.0);
            audio_pack.u32Seq = (uint32_t)frame_count_audio;
            ret = iv_cs_push_stream(IV_CM_STREAM_TYPE_AUDIO, &audio_pack);
            ret ? (refused[0]++, last_error = ret) : pushed[0]++;
        }
        else
        {
            frame_count_video += 1;
            get_video_frame_h264(&video, video_frame_buf, &video_len, &frame_type);
            video_pack.pu8Addr = video_frame_buf;
            video_pack.u32Len = video_len;
            video_pack.eFrameType = frame_type;
            video_pack.u64PTS = (uint64_t)(frame_count_video * 1000 / 25.0);
            video_pack.u32Seq = (uint32_t)frame_count_video;
            ret = iv_cs_push_stream(IV_CM_STREAM_TYPE_VIDEO, &video_pack);
            ret ? (refused[1]++, last_error = ret) : pushed[1]++;
        }
        sleep_ms(10);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= seconds) {
            run_flag = 0;
        }
    }

    say("pushed audio=%ld video=%ld refused audio=%ld video=%ld last_error=%d", pushed[0], pushed[1], refused[0], refused[1], last_error);
    ret = iv_cs_exit();
    say("exit ret=%d stopped=%d", ret, stopped);
    free(audio_frame_buf);
    free(video_frame_buf);
    free(audio.data);
    free(video.data);
    return 0;
}
