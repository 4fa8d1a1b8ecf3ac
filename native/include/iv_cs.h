/* iv_cs.h - the IoT Video cloud storage module of the device SDK C API,
 * implemented by the iotvideo-gateway runtime. */
#ifndef IV_CS_H
#define IV_CS_H

#include <stdint.h>
#include "iv_cm.h"
#include "iv_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CS_TYPE_NONE = 0,
    CS_TYPE_FULL_TIME = 1,
    CS_TYPE_EVENT = 2,
    CS_TYPE_FREE_TRIAL = 3
} iv_cs_type_e;

typedef struct {
    int cs_switch;
    int cs_days;
    iv_cs_type_e cs_type;
    int free_trial_remaining_sec;
} iv_cs_balance_info_s;

typedef struct iv_cs_init_parm_s {
    uint32_t u32MaxGopSize; /* bytes, a multiple of 4 KB */
    iv_cm_av_data_info_s av_fmt;
    int32_t (*iv_cs_push_stream_start_cb)(void);
    int32_t (*iv_cs_push_stream_stop_cb)(void);
    int32_t (*iv_cs_event_capture_picture_cb)(int32_t event_id, uint8_t **pic, int32_t *size);
    int32_t (*iv_cs_event_picture_result_cb)(uint8_t **pic, int32_t err_code);
} iv_cs_init_parm_s;

iv_err_code_e iv_cs_init(iv_cs_init_parm_s *pstInitParm);
iv_err_code_e iv_cs_exit(void);
/* pstCsPack: iv_cm_aenc_pack_s for audio, iv_cm_venc_pack_s for video */
iv_err_code_e iv_cs_push_stream(iv_cm_stream_type_e eCsStreamType, void *pstCsPack);
int iv_cs_event_start(int32_t event_id);
int iv_cs_event_stop(int32_t event_id);
int iv_cs_event_start_ext(int32_t event_id, uint32_t event_start_time_s, uint32_t stream_start_time_s);
int iv_cs_event_stop_ext(int32_t event_id, uint32_t event_stop_time_s, uint32_t stream_stop_time_s);
int iv_cs_get_balance_info(iv_cs_balance_info_s *pstBalanceInfo, uint32_t timeout_s);
int iv_cs_set_trans_time(uint32_t upload_timeout_ms, uint32_t reply_timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* IV_CS_H */
