/* iv_err.h - error codes of the IoT Video device SDK C API (iotvideo-gateway runtime).
 * Numbers as the SDK publishes them (see ../README.md for how runtime codes map here). */
#ifndef IV_ERR_H
#define IV_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    IV_ERR_NONE = 0,

    /* system (module-independent) */
    IV_ERR_SYS_INIT_PRM_NULL = -100,
    IV_ERR_SYS_INIT_CB_NULL = -101,
    IV_ERR_SYS_INIT_PRM_RANGE = -102,
    IV_ERR_SYS_NOT_SUPPORT = -105,
    IV_ERR_SYS_MALLOC_FAIL = -108,
    IV_ERR_SYS_COMMUNICATE_FAIL = -109,
    IV_ERR_SYS_COMMUNICATE_TIMEOUT = -110,

    /* av / P2P */
    IV_ERR_AVT_INIT_PRM_NULL = -300,
    IV_ERR_AVT_INIT_CB_NULL = -301,
    IV_ERR_AVT_INIT_PRM_RANGE = -302,
    IV_ERR_AVT_REQ_CHN_BUSY = -303,
    IV_ERR_AVT_SEND_STREAM_TOO_BIG = -304,
    IV_ERR_AVT_CHN_NOT_EXIT = -305,
    IV_ERR_AVT_NEED_IDR_FRAME = -306,
    IV_ERR_AVT_MALLOC_BUFFER_FAILED = -307,
    IV_ERR_AVT_FAILED = -308,
    IV_ERR_AVT_INPUT_PARAM_NULL = -309,
    IV_ERR_AVT_INPUT_PARAM_INVAILD = -310, /* sic: the SDK's spelling */
    IV_ERR_AVT_SEND_DATA_TIMEOUT = -311,
    IV_ERR_AVT_STATE_ERROR = -312,
    IV_ERR_AVT_VIDEO_DATA_ERROR = -313,

    /* cloud storage */
    IV_ERR_CS_INIT_PRM_NULL = -600,
    IV_ERR_CS_INIT_CB_NULL = -601,
    IV_ERR_CS_INIT_PRM_RANGE = -602,
    IV_ERR_CS_UPLOAD_AUTH_NOT_AVAILABLE = -603,
    IV_ERR_CS_UPLOAD_OPEN_FILE_FAIL = -604,
    IV_ERR_CS_PRM_NOT_AVAILABLE = -605,
    IV_ERR_CS_PRM_MALLOC_FAIL = -606,
    IV_ERR_CS_APPLY_NO_SERVICE = -607,
    IV_ERR_CS_QUERY_SERVICE_TIMEOUT = -608,
    IV_ERR_CS_EVENT_IS_VALID = -609,
    IV_ERR_CS_INIT_REPEAT = -610,
    IV_ERR_CS_NEED_IDR_FRAME = -611,
    IV_ERR_CS_NO_BALANCE = -612,
    IV_ERR_CS_HTTP_DATA_FAIL = -613,

    /* general */
    IV_ERR_DEVICE_OFFLINE = -1001
} iv_err_code_e;

#ifdef __cplusplus
}
#endif

#endif /* IV_ERR_H */
