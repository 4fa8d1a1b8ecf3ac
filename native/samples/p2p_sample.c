/* p2p_sample.c - the P2P sample of the SDK's P2P page (p2p-module.md, 示例代码),
 * completed into a firmware: p2p_handle_send_get_cb serves an FLV file's bytes.
 *
 *   gcc -shared -fPIC -I native/include native/samples/p2p_sample.c -o libp2p_sample.so
 *   ivgw run --firmware ./libp2p_sample.so -- FILE.flv [CHUNK_BYTES [SECONDS]]
 *
 * Every stream an app opens gets the file from its start, CHUNK_BYTES (default 4096)
 * per 10 ms call; then nothing (the app has the whole file). SECONDS 0 (default) runs
 * until the runtime stops. Lines starting "fw:" say what the callbacks saw. */
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include "iv_av.h"

static const char *g_flv_path;
static size_t g_chunk = 4096;
static long g_returned, g_freed; /* buffers handed to the SDK / buf_free_fn calls */

typedef struct {
    FILE *fp;
    size_t sent;
} flv_stream_s;

typedef struct {
    long frames;
    long bytes;
} voice_s;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
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

static void free_buf(uint8_t *buf, size_t size)
{
    (void)size;
    free(buf);
    __atomic_add_fetch(&g_freed, 1, __ATOMIC_SEQ_CST);
}

static void *test_flv_send_init(const char *params, const char *peer)
{
    flv_stream_s *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->fp = fopen(g_flv_path, "rb");
    say("send_init params=%s peer=%s handle=%p file=%s", params, peer, (void *)s, s->fp ? "open" : "missing");
    return s;
}

static iv_cm_memory_s test_flv_send_data(void *handle)
{
    iv_cm_memory_s mem = {NULL, 0, NULL};
    flv_stream_s *s = handle;
    if (!s || !s->fp) {
        return mem;
    }
    uint8_t *buf = malloc(g_chunk);
    if (!buf) {
        return mem;
    }
    size_t n = fread(buf, 1, g_chunk, s->fp);
    if (n == 0) {
        free(buf);
        return mem;
    }
    s->sent += n;
    mem.buf = buf;
    mem.size = n;
    mem.buf_free_fn = free_buf;
    __atomic_add_fetch(&g_returned, 1, __ATOMIC_SEQ_CST);
    return mem;
}

static int test_flv_send_stop(void *handle)
{
    flv_stream_s *s = handle;
    say("send_stop handle=%p sent=%zu returned=%ld freed=%ld", handle, s ? s->sent : 0,
        __atomic_load_n(&g_returned, __ATOMIC_SEQ_CST), __atomic_load_n(&g_freed, __ATOMIC_SEQ_CST));
    if (s) {
        if (s->fp) {
            fclose(s->fp);
        }
        free(s);
    }
    return 0;
}

static void test_p2p_notify(iv_avt_event_e event, void *handle)
{
    say("event %d handle=%p", (int)event, handle);
}

static void *test_recv_data_init(const char *params, const char *peer)
{
    voice_s *v = calloc(1, sizeof(*v));
    say("recv_init params=%s peer=%s handle=%p", params, peer, (void *)v);
    return v;
}

static void test_recv_data(void *handle, uint8_t *recv_buf, size_t recv_len)
{
    voice_s *v = handle;
    if (!v) {
        return;
    }
    if (recv_buf == NULL && recv_len == 0) {
        say("voice_end handle=%p frames=%ld bytes=%ld", handle, v->frames, v->bytes);
        free(v);
        return;
    }
    v->frames++;
    v->bytes += (long)recv_len;
}

static iv_cm_memory_s test_command_handle(const char *command, size_t cmd_len, const char *peer)
{
    iv_cm_memory_s mem = {NULL, 0, NULL};
    say("command len=%zu peer=%s text=%.*s returned=%ld freed=%ld", cmd_len, peer, (int)cmd_len, command,
        __atomic_load_n(&g_returned, __ATOMIC_SEQ_CST), __atomic_load_n(&g_freed, __ATOMIC_SEQ_CST));
    if (cmd_len == 5 && memcmp(command, "close", 5) == 0) {
        return mem; /* an empty reply closes the channel */
    }
    if (cmd_len == 4 && memcmp(command, "slow", 4) == 0) {
        struct timespec ts = {3, 0}; /* longer than the runtime's command deadline (2 s) */
        nanosleep(&ts, NULL);
    }
    size_t n = cmd_len + 4;
    uint8_t *buf = malloc(n); /* writable, as the SDK requires */
    if (!buf) {
        return mem;
    }
    memcpy(buf, "ok: ", 4);
    memcpy(buf + 4, command, cmd_len);
    mem.buf = buf;
    mem.size = n;
    mem.buf_free_fn = free_buf;
    __atomic_add_fetch(&g_returned, 1, __ATOMIC_SEQ_CST);
    return mem;
}

/* 3. P2P 退出 */
void p2p_sample_exit(void)
{
    iv_avt_p2p_exit();
}

int iv_firmware_main(int argc, char **argv)
{
    if (argc < 2) {
        say("usage: -- FILE.flv [CHUNK_BYTES [SECONDS]]");
        return 2;
    }
    g_flv_path = argv[1];
    if (argc > 2 && atoi(argv[2]) > 0) {
        g_chunk = (size_t)atoi(argv[2]);
    }
    int seconds = argc > 3 ? atoi(argv[3]) : 0;

    /* 1. P2P 初始化 */
    iv_p2p_parm_s cb;
    memset(&cb, 0, sizeof(cb)); /* p2p_keep_alive 0/0: keep-alive off */

    cb.p2p_handle_send_init_cb    = test_flv_send_init;
    cb.p2p_handle_send_get_cb     = test_flv_send_data;
    cb.p2p_handle_send_stop_cb    = test_flv_send_stop;
    cb.p2p_handle_event_notify_cb = test_p2p_notify;
    cb.p2p_handle_recv_init_cb    = test_recv_data_init;
    cb.p2p_handle_recv_voice_cb   = test_recv_data;
    cb.p2p_handle_command_cb      = test_command_handle;

    int ret = iv_avt_p2p_init(&cb);
    if (ret) {
        say(" p2p init failed %d", ret);
        return -1;
    }

    /* 2. 配置拥塞控制参数 */
    ret = iv_avt_p2p_set_buf_watermark(200 * 1024, 400 * 1024, 500 * 1024);
    say("ready init=0 watermark=%d", ret);

    for (int ms = 0; seconds == 0 || ms < seconds * 1000; ms += 100) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    p2p_sample_exit();
    say("exit returned=%ld freed=%ld", __atomic_load_n(&g_returned, __ATOMIC_SEQ_CST), __atomic_load_n(&g_freed, __ATOMIC_SEQ_CST));
    return 0;
}
