// c-api — the exported iv_* symbols of iv_av.h and iv_cs.h: the checks the SDK makes in C
// (null parameters and callbacks, double init, state, frame sizes against u32MaxGopSize)
// with its error numbers, then the call forwarded to the TS SDK (Forward, addon.h); exit
// and event calls return after the callbacks they cause have run (Drain).
// Must never: keep a pointer the firmware passed beyond the call.
#include "addon.h"

using iv_native::Addon;
using iv_native::Bound;
using iv_native::Forward;

#define IV_EXPORT extern "C" __attribute__((visibility("default")))

IV_EXPORT int iv_avt_p2p_init(const iv_p2p_parm_s *pstInitParm) {
  Addon *a = Bound();
  if (!pstInitParm) {
    return IV_ERR_AVT_INIT_PRM_NULL;
  }
  if (!pstInitParm->p2p_handle_send_init_cb || !pstInitParm->p2p_handle_send_get_cb || !pstInitParm->p2p_handle_send_stop_cb) {
    return IV_ERR_AVT_INIT_CB_NULL;
  }
  if (!a) {
    return IV_ERR_AVT_FAILED;
  }
  {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    if (a->p2pActive) {
      return IV_ERR_AVT_STATE_ERROR;  // double init
    }
    a->p2pActive = true;
    a->p2p = *pstInitParm;
  }
  // the third number: whether the firmware takes commands (a NULL command callback: apps are told it does not)
  int code = Forward("p2p_init", {static_cast<double>(pstInitParm->p2p_keep_alive.time_inter_s), static_cast<double>(pstInitParm->p2p_keep_alive.max_attempt_num), pstInitParm->p2p_handle_command_cb ? 1.0 : 0.0}, IV_ERR_AVT_FAILED);
  if (code != IV_ERR_NONE) {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    a->p2pActive = false;
  }
  return code;
}

IV_EXPORT int iv_avt_p2p_exit(void) {
  Addon *a = Bound();
  if (!a) {
    return IV_ERR_AVT_FAILED;
  }
  {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    if (!a->p2pActive) {
      return IV_ERR_AVT_STATE_ERROR;
    }
  }
  int code = Forward("p2p_exit", {}, IV_ERR_AVT_FAILED);
  a->Drain();  // the stop callbacks of open streams ran before this returns
  std::lock_guard<std::mutex> lk(a->stateMutex);
  a->p2pActive = false;
  return code;
}

IV_EXPORT int iv_avt_p2p_set_buf_watermark(size_t low_mark, size_t warn_mark, size_t high_mark) {
  return Forward("p2p_watermark", {static_cast<double>(low_mark), static_cast<double>(warn_mark), static_cast<double>(high_mark)}, IV_ERR_AVT_FAILED);
}

IV_EXPORT size_t iv_avt_p2p_get_send_buf(void *handle) {
  Addon *a = Bound();
  uint32_t id = a ? a->StreamOf(handle) : 0;
  if (id == 0) {
    return 0;
  }
  std::vector<double> out;
  if (Forward("p2p_send_buf", {static_cast<double>(id)}, IV_ERR_AVT_FAILED, &out) != IV_ERR_NONE || out.empty()) {
    return 0;
  }
  return static_cast<size_t>(out[0]);
}

IV_EXPORT iv_p2p_send_stats_s iv_avt_p2p_get_send_status(void *handle) {
  iv_p2p_send_stats_s s{};
  Addon *a = Bound();
  uint32_t id = a ? a->StreamOf(handle) : 0;
  if (id == 0) {
    return s;
  }
  std::vector<double> out;
  if (Forward("p2p_send_status", {static_cast<double>(id)}, IV_ERR_AVT_FAILED, &out) == IV_ERR_NONE && out.size() >= 3) {
    s.inst_net_rate = static_cast<uint32_t>(out[0]);
    s.ave_sent_rate = static_cast<uint32_t>(out[1]);
    s.sum_sent_acked = static_cast<uint64_t>(out[2]);
  }
  return s;
}

IV_EXPORT iv_err_code_e iv_cs_init(iv_cs_init_parm_s *pstInitParm) {
  Addon *a = Bound();
  if (!pstInitParm) {
    return IV_ERR_CS_INIT_PRM_NULL;
  }
  if (!pstInitParm->iv_cs_push_stream_start_cb || !pstInitParm->iv_cs_push_stream_stop_cb ||
      (pstInitParm->iv_cs_event_capture_picture_cb && !pstInitParm->iv_cs_event_picture_result_cb)) {
    return IV_ERR_CS_INIT_CB_NULL;
  }
  if (!a) {
    return IV_ERR_SYS_COMMUNICATE_FAIL;
  }
  {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    if (a->csActive) {
      return IV_ERR_CS_INIT_REPEAT;
    }
    a->csActive = true;
    a->cs = *pstInitParm;
  }
  const iv_cm_av_data_info_s &f = pstInitParm->av_fmt;
  int code = Forward("cs_init", {static_cast<double>(pstInitParm->u32MaxGopSize), static_cast<double>(f.eAudioType), static_cast<double>(f.u32AudioCodecOption), static_cast<double>(f.eAudioMode), static_cast<double>(f.eAudioBitWidth), static_cast<double>(f.eAudioSampleRate), static_cast<double>(f.u32SampleNumPerFrame), static_cast<double>(f.eVideoType), static_cast<double>(f.u32VideoWidth), static_cast<double>(f.u32VideoHeight), static_cast<double>(f.u32Framerate)}, IV_ERR_SYS_COMMUNICATE_FAIL);
  if (code != IV_ERR_NONE) {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    a->csActive = false;
  }
  return static_cast<iv_err_code_e>(code);
}

IV_EXPORT iv_err_code_e iv_cs_exit(void) {
  Addon *a = Bound();
  if (!a) {
    return IV_ERR_SYS_COMMUNICATE_FAIL;
  }
  {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    if (!a->csActive) {
      return IV_ERR_CS_PRM_NOT_AVAILABLE;
    }
  }
  int code = Forward("cs_exit", {}, IV_ERR_SYS_COMMUNICATE_FAIL);
  a->Drain();  // push_stop and the outstanding picture results ran before this returns
  std::lock_guard<std::mutex> lk(a->stateMutex);
  a->csActive = false;
  return static_cast<iv_err_code_e>(code);
}

IV_EXPORT iv_err_code_e iv_cs_push_stream(iv_cm_stream_type_e eCsStreamType, void *pstCsPack) {
  Addon *a = Bound();
  if (!a) {
    return IV_ERR_SYS_COMMUNICATE_FAIL;
  }
  uint32_t maxGop = 0;
  {
    std::lock_guard<std::mutex> lk(a->stateMutex);
    if (!a->csActive) {
      return IV_ERR_CS_PRM_NOT_AVAILABLE;  // before init or after exit
    }
    maxGop = a->cs.u32MaxGopSize;
  }
  if (!pstCsPack) {
    return IV_ERR_CS_PRM_NOT_AVAILABLE;
  }
  if (eCsStreamType == IV_CM_STREAM_TYPE_VIDEO) {
    auto *v = static_cast<iv_cm_venc_pack_s *>(pstCsPack);
    if (!v->pu8Addr || v->u32Len == 0 || v->u32Len > maxGop) {
      return IV_ERR_CS_PRM_NOT_AVAILABLE;
    }
    if (v->eFrameType != IV_CM_FRAME_TYPE_I && v->eFrameType != IV_CM_FRAME_TYPE_P) {
      return IV_ERR_CS_PRM_NOT_AVAILABLE;
    }
    return static_cast<iv_err_code_e>(Forward("cs_push", {1, static_cast<double>(v->u64PTS), v->eFrameType == IV_CM_FRAME_TYPE_I ? 1.0 : 0.0}, IV_ERR_SYS_COMMUNICATE_FAIL, nullptr, v->pu8Addr, v->u32Len));
  }
  if (eCsStreamType == IV_CM_STREAM_TYPE_AUDIO) {
    auto *au = static_cast<iv_cm_aenc_pack_s *>(pstCsPack);
    if (!au->pu8Addr || au->u32Len == 0 || au->u32Len > maxGop) {
      return IV_ERR_CS_PRM_NOT_AVAILABLE;
    }
    return static_cast<iv_err_code_e>(Forward("cs_push", {0, static_cast<double>(au->u64PTS), 0}, IV_ERR_SYS_COMMUNICATE_FAIL, nullptr, au->pu8Addr, au->u32Len));
  }
  return IV_ERR_CS_PRM_NOT_AVAILABLE;  // unknown stream type
}

// events: push_start / push_stop that an event causes have run when these return
static int Event(double start, double ext, int32_t id, double t1, double t2) {
  int code = Forward("cs_event", {start, ext, static_cast<double>(id), t1, t2}, IV_ERR_SYS_COMMUNICATE_FAIL);
  if (Addon *a = Bound()) {
    a->Drain();
  }
  return code;
}

IV_EXPORT int iv_cs_event_start(int32_t event_id) { return Event(1, 0, event_id, 0, 0); }

IV_EXPORT int iv_cs_event_stop(int32_t event_id) { return Event(0, 0, event_id, 0, 0); }

IV_EXPORT int iv_cs_event_start_ext(int32_t event_id, uint32_t event_start_time_s, uint32_t stream_start_time_s) {
  return Event(1, 1, event_id, event_start_time_s, stream_start_time_s);
}

IV_EXPORT int iv_cs_event_stop_ext(int32_t event_id, uint32_t event_stop_time_s, uint32_t stream_stop_time_s) {
  return Event(0, 1, event_id, event_stop_time_s, stream_stop_time_s);
}

IV_EXPORT int iv_cs_get_balance_info(iv_cs_balance_info_s *pstBalanceInfo, uint32_t timeout_s) {
  if (!pstBalanceInfo) {
    return IV_ERR_CS_PRM_NOT_AVAILABLE;
  }
  std::vector<double> out;
  int code = Forward("cs_balance", {static_cast<double>(timeout_s)}, IV_ERR_SYS_COMMUNICATE_FAIL, &out);
  if (out.size() >= 4) {
    pstBalanceInfo->cs_switch = static_cast<int>(out[0]);
    pstBalanceInfo->cs_days = static_cast<int>(out[1]);
    pstBalanceInfo->cs_type = static_cast<iv_cs_type_e>(static_cast<int>(out[2]));
    pstBalanceInfo->free_trial_remaining_sec = static_cast<int>(out[3]);
  }
  return code;
}

IV_EXPORT int iv_cs_set_trans_time(uint32_t upload_timeout_ms, uint32_t reply_timeout_ms) {
  return Forward("cs_trans_time", {static_cast<double>(upload_timeout_ms), static_cast<double>(reply_timeout_ms)}, IV_ERR_SYS_COMMUNICATE_FAIL);
}
