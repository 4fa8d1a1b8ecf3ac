/* iv_av.h - the IoT Video P2P interface (raw P2P module) of the device SDK C API,
 * implemented by the iotvideo-gateway runtime. */
#ifndef IV_AV_H
#define IV_AV_H

#include <stddef.h>
#include <stdint.h>
#include "iv_cm.h"
#include "iv_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    IV_AVT_EVENT_P2P_PEER_READY = 0,
    IV_AVT_EVENT_P2P_PEER_CONNECT_FAIL = 1,
    IV_AVT_EVENT_P2P_PEER_ERROR = 2,
    IV_AVT_EVENT_P2P_PEER_ADDR_CHANGED = 3,
    IV_AVT_EVENT_P2P_WATERMARK_LOW = 4,
    IV_AVT_EVENT_P2P_WATERMARK_WARN = 5,
    IV_AVT_EVENT_P2P_WATERMARK_HIGH = 6,
    IV_AVT_EVENT_P2P_BUTT
} iv_avt_event_e;

/* P2P keep-alive; either field 0 turns it off. max_attempt_num at most 10. */
typedef struct p2p_keep_alive_s {
    uint8_t time_inter_s;
    uint8_t max_attempt_num;
} p2p_keep_alive_cfg;

typedef struct iv_avt_init_parm_s {
    void *(*p2p_handle_send_init_cb)(const char *params, const char *peer);
    iv_cm_memory_s (*p2p_handle_send_get_cb)(void *handle);
    int (*p2p_handle_send_stop_cb)(void *handle);
    void (*p2p_handle_event_notify_cb)(iv_avt_event_e, void *handle);
    void *(*p2p_handle_recv_init_cb)(const char *params, const char *peer);
    void (*p2p_handle_recv_voice_cb)(void *handle, uint8_t *recv_buf, size_t recv_len);
    iv_cm_memory_s (*p2p_handle_command_cb)(const char *command, size_t cmd_len, const char *peer);
    p2p_keep_alive_cfg p2p_keep_alive;
} iv_avt_init_parm_s;

/* the name the SDK's functions and sample use */
typedef iv_avt_init_parm_s iv_p2p_parm_s;

typedef struct {
    uint32_t inst_net_rate;
    uint32_t ave_sent_rate;
    uint64_t sum_sent_acked;
} iv_p2p_send_stats_s;

int iv_avt_p2p_init(const iv_p2p_parm_s *pstInitParm);
int iv_avt_p2p_exit(void);
int iv_avt_p2p_set_buf_watermark(size_t low_mark, size_t warn_mark, size_t high_mark);
size_t iv_avt_p2p_get_send_buf(void *handle);
iv_p2p_send_stats_s iv_avt_p2p_get_send_status(void *handle);

#ifdef __cplusplus
}
#endif

#endif /* IV_AV_H */
