// callback-thread — the addon's one callback thread: runs every C callback the JS side
// posts, in order (send_init/stop, events, voice, commands, push start/stop, snapshots and
// their results), polls p2p_handle_send_get_cb every 10 ms per ready stream into its
// one-chunk slot, and calls each buffer's buf_free_fn exactly once.
// Must never: call into JS (results go through SendResult's thread-safe function) or run a
// callback for a stream that is gone (its handle would be stale).
#include "addon.h"

namespace iv_native {

// Wait until the callbacks posted so far have run (so e.g. push_stop comes before
// iv_cs_exit returns). Not from the callback thread itself (it would wait for itself).
void Addon::Drain() {
  if (std::this_thread::get_id() == cbThreadId_) {
    return;
  }
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  {
    std::lock_guard<std::mutex> lk(taskMutex_);
    if (quit_ || !started_) {
      return;
    }
    Task t;
    t.kind = "barrier";
    t.barrier = [&] {
      std::lock_guard<std::mutex> l2(m);
      done = true;
      cv.notify_all();
    };
    tasks_.push_back(std::move(t));
  }
  taskCv_.notify_one();
  std::unique_lock<std::mutex> lk(m);
  cv.wait_for(lk, std::chrono::seconds(10), [&] { return done; });
}

void Addon::FreeOnce(const iv_cm_memory_s &m) {
  if (m.buf && m.buf_free_fn) {
    m.buf_free_fn(m.buf, m.size);
    freed_++;
  }
}

void Addon::RunTask(Task &t) {
  iv_p2p_parm_s p;
  iv_cs_init_parm_s c;
  {
    std::lock_guard<std::mutex> lk(stateMutex);
    p = p2p;
    c = cs;
  }
  if (t.kind == "barrier") {
    t.barrier();
  } else if (t.kind == "send_init") {
    void *h = p.p2p_handle_send_init_cb ? p.p2p_handle_send_init_cb(t.s1.c_str(), t.s2.c_str()) : nullptr;
    std::lock_guard<std::mutex> lk(streamMutex_);
    auto it = streams_.find(t.id);
    if (it != streams_.end()) {
      it->second.handle = h;
      it->second.ready = true;
    }
  } else if (t.kind == "send_stop") {
    void *h = nullptr;
    bool known = false;
    {
      std::lock_guard<std::mutex> lk(streamMutex_);
      auto it = streams_.find(t.id);
      if (it != streams_.end()) {
        h = it->second.handle;
        known = it->second.ready;
        streams_.erase(it);
      }
    }
    if (known && p.p2p_handle_send_stop_cb) {
      p.p2p_handle_send_stop_cb(h);
    }
  } else if (t.kind == "event") {
    int ev = static_cast<int>(t.num);
    void *h = nullptr;
    if (ev >= IV_AVT_EVENT_P2P_WATERMARK_LOW && ev <= IV_AVT_EVENT_P2P_WATERMARK_HIGH) {
      std::lock_guard<std::mutex> lk(streamMutex_);
      auto it = streams_.find(t.id);
      if (it == streams_.end() || !it->second.ready) {
        return;  // the stream is gone: an event for it would carry a stale handle
      }
      h = it->second.handle;
    }
    if (p.p2p_handle_event_notify_cb) {
      p.p2p_handle_event_notify_cb(static_cast<iv_avt_event_e>(ev), h);
    }
  } else if (t.kind == "recv_init") {
    void *h = p.p2p_handle_recv_init_cb ? p.p2p_handle_recv_init_cb(t.s1.c_str(), t.s2.c_str()) : nullptr;
    voice_[t.id] = h;
  } else if (t.kind == "voice") {
    auto it = voice_.find(t.id);
    void *h = it == voice_.end() ? nullptr : it->second;
    if (p.p2p_handle_recv_voice_cb) {
      if (t.hasBytes) {
        p.p2p_handle_recv_voice_cb(h, t.bytes.data(), t.bytes.size());
      } else {
        p.p2p_handle_recv_voice_cb(h, nullptr, 0);
      }
    }
    if (!t.hasBytes && it != voice_.end()) {
      voice_.erase(it);
    }
  } else if (t.kind == "command") {
    if (!p.p2p_handle_command_cb) {
      SendResult(t.id, 0, nullptr, 0, false, 0);
      return;
    }
    t.bytes.push_back(0);  // NUL-terminated for C; cmd_len excludes it
    iv_cm_memory_s m = p.p2p_handle_command_cb(reinterpret_cast<const char *>(t.bytes.data()), t.bytes.size() - 1, t.s2.c_str());
    bool ok = m.buf && m.size > 0 && m.size <= kMaxChunk;
    SendResult(t.id, 0, ok ? m.buf : nullptr, ok ? m.size : 0, ok, 0);
    FreeOnce(m);
  } else if (t.kind == "push_start") {
    if (c.iv_cs_push_stream_start_cb) {
      c.iv_cs_push_stream_start_cb();
    }
  } else if (t.kind == "push_stop") {
    if (c.iv_cs_push_stream_stop_cb) {
      c.iv_cs_push_stream_stop_cb();
    }
  } else if (t.kind == "capture") {
    uint8_t *pic = nullptr;
    int32_t size = 0;
    int32_t rc = IV_ERR_NONE;
    if (c.iv_cs_event_capture_picture_cb) {
      rc = c.iv_cs_event_capture_picture_cb(static_cast<int32_t>(t.num), &pic, &size);
    }
    if (rc != IV_ERR_NONE) {
      // the capture failed: the event goes on without a picture; one it set anyway is handed back (with that code) so it can be freed
      SendResult(t.id, 0, nullptr, 0, false, 0);
      if (pic != nullptr && c.iv_cs_event_picture_result_cb) {
        c.iv_cs_event_picture_result_cb(&pic, rc);
      }
      return;
    }
    if (pic == nullptr) {
      SendResult(t.id, 0, nullptr, 0, false, 0);  // no picture: its result callback is never called
      return;
    }
    if (size <= 0 || size > kMaxPicture) {
      SendResult(t.id, 0, nullptr, 0, false, 0);
      if (c.iv_cs_event_picture_result_cb) {
        c.iv_cs_event_picture_result_cb(&pic, IV_ERR_CS_PRM_NOT_AVAILABLE);
      }
      return;
    }
    uint32_t picId = nextPic_++;
    pictures_[picId] = pic;
    SendResult(t.id, 0, pic, static_cast<size_t>(size), true, picId);
  } else if (t.kind == "pic_result") {
    auto it = pictures_.find(t.id);
    if (it == pictures_.end()) {
      return;
    }
    uint8_t *pic = it->second;
    pictures_.erase(it);
    if (c.iv_cs_event_picture_result_cb) {
      c.iv_cs_event_picture_result_cb(&pic, static_cast<int32_t>(t.num));
    }
  }
}

void Addon::Poll() {
  iv_cm_memory_s (*get)(void *) = nullptr;
  {
    std::lock_guard<std::mutex> lk(stateMutex);
    get = p2p.p2p_handle_send_get_cb;
  }
  if (!get) {
    return;
  }
  std::vector<std::pair<uint32_t, void *>> want;
  {
    std::lock_guard<std::mutex> lk(streamMutex_);
    for (auto &kv : streams_) {
      if (kv.second.ready && !kv.second.hasChunk) {
        want.emplace_back(kv.first, kv.second.handle);
      }
    }
  }
  for (auto &w : want) {
    iv_cm_memory_s m = get(w.second);
    sendGets_++;
    if (m.buf && m.size > 0 && m.size <= kMaxChunk) {
      std::lock_guard<std::mutex> lk(streamMutex_);
      auto it = streams_.find(w.first);
      if (it != streams_.end()) {
        it->second.chunk.assign(m.buf, m.buf + m.size);
        it->second.hasChunk = true;
      }
    }
    FreeOnce(m);
  }
}

void Addon::CallbackLoop() {
  auto next = Clock::now() + std::chrono::milliseconds(10);
  std::unique_lock<std::mutex> lk(taskMutex_);
  while (!quit_) {
    taskCv_.wait_until(lk, next, [&] { return quit_ || !tasks_.empty(); });
    while (!quit_ && !tasks_.empty()) {
      Task t = std::move(tasks_.front());
      tasks_.pop_front();
      lk.unlock();
      RunTask(t);
      lk.lock();
    }
    if (quit_) {
      break;
    }
    auto now = Clock::now();
    if (now >= next) {
      next += std::chrono::milliseconds(10);
      if (next < now) {
        next = now + std::chrono::milliseconds(10);
      }
      lk.unlock();
      Poll();
      lk.lock();
    }
  }
}

}  // namespace iv_native
