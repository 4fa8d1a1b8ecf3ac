// iv_native — the C API of the IoT Video device SDK (iv_av.h, iv_cs.h) over the
// TypeScript runtime. Threading contract: native/README.md.
//
//  firmware threads ── iv_* call ──► Request ── ThreadSafeFunction ──► JS dispatcher (main thread)
//        ▲   (blocks only the caller until JS replies)                      │
//        │                                                                  │ post(kind, ...)
//  callback thread ◄────────────── task queue ◄─────────────────────────────┘
//   runs every C callback in order, polls p2p_handle_send_get_cb every 10 ms per
//   stream into a one-chunk slot the JS side takes (take), calls buf_free_fn once.
//
// Instance data only (Napi::Addon<Addon>); the one exception the C ABI forces is
// `g_bound`, the instance the exported iv_* symbols talk to (they carry no context).
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>
#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "iv_av.h"
#include "iv_cs.h"
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxChunk = 16 * 1024 * 1024;    // bytes one send_get / command reply may hand over
constexpr int32_t kMaxPicture = 8 * 1024 * 1024;  // a snapshot larger than this is refused

struct Request {
  std::string fn;
  std::vector<double> nums;
  // the caller's bytes, not copied: the caller stays blocked (and its memory valid) while
  // the request is in `pending_`, and the main thread reads them only under callMutex_
  const uint8_t *bytes = nullptr;
  size_t len = 0;
  bool hasBytes = false;
  // reply
  int code = 0;
  std::vector<double> out;
  bool done = false;
  std::mutex m;
  std::condition_variable cv;
};

struct Task {
  std::string kind;
  uint32_t id = 0;
  double num = 0;
  std::string s1, s2;
  std::vector<uint8_t> bytes;
  bool hasBytes = false;
  std::function<void()> barrier;
};

struct Stream {
  void *handle = nullptr;
  bool ready = false;
  std::vector<uint8_t> chunk;
  bool hasChunk = false;
};

struct TaskResult {
  uint32_t id;
  int code;
  std::vector<uint8_t> bytes;
  bool hasBytes;
  double num;
};

class Addon;
std::atomic<Addon *> g_bound{nullptr};

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
        InstanceMethod("start", &Addon::Start),
        InstanceMethod("reply", &Addon::Reply),
        InstanceMethod("post", &Addon::Post),
        InstanceMethod("take", &Addon::Take),
        InstanceMethod("shutdown", &Addon::Shutdown),
        InstanceMethod("counters", &Addon::Counters),
    });
  }

  ~Addon() {
    StopThreads();
    Addon *self = this;
    g_bound.compare_exchange_strong(self, nullptr);
  }

  // ---- called by the exported C functions (any firmware thread) ----

  // Forward a request to JS and wait for its reply. Returns `failCode` if the host is gone.
  int Call(Request &req, int failCode) {
    {
      std::lock_guard<std::mutex> lk(callMutex_);
      if (closed_) {
        return failCode;
      }
      uint32_t id = nextReq_++;
      pending_[id] = &req;
      auto *d = new Delivery{this, id};
      if (requests_.NonBlockingCall(d, &Addon::DeliverRequest) != napi_ok) {
        delete d;
        pending_.erase(id);
        return failCode;
      }
    }
    std::unique_lock<std::mutex> lk(req.m);
    req.cv.wait(lk, [&] { return req.done; });
    return req.code;
  }

  // P2P state the C side checks itself
  std::mutex stateMutex;
  bool p2pActive = false;
  iv_p2p_parm_s p2p{};
  bool csActive = false;
  iv_cs_init_parm_s cs{};

  // Wait until the callbacks posted so far have run (so e.g. push_stop comes before
  // iv_cs_exit returns). Not from the callback thread itself (it would wait for itself).
  void Drain() {
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

  // JS stream id of a firmware handle (0: none)
  uint32_t StreamOf(void *handle) {
    std::lock_guard<std::mutex> lk(streamMutex_);
    for (auto &kv : streams_) {
      if (kv.second.ready && kv.second.handle == handle) {
        return kv.first;
      }
    }
    return 0;
  }

 private:
  struct Delivery {
    Addon *self;
    uint32_t id;
  };

  // main thread: hand one request to the JS dispatcher as dispatch(fn, [id, ...nums], bytes)
  static void DeliverRequest(Napi::Env env, Napi::Function dispatch, Delivery *d) {
    Addon *self = d->self;
    uint32_t id = d->id;
    delete d;
    if (env == nullptr) {
      return;
    }
    Napi::String fn;
    Napi::Array arr;
    Napi::Value b = env.Null();
    {
      std::lock_guard<std::mutex> lk(self->callMutex_);
      auto it = self->pending_.find(id);
      if (it == self->pending_.end()) {
        return;  // already failed (shutdown)
      }
      Request *req = it->second;
      fn = Napi::String::New(env, req->fn);
      arr = Napi::Array::New(env, req->nums.size() + 1);
      arr.Set(uint32_t(0), Napi::Number::New(env, id));
      for (size_t i = 0; i < req->nums.size(); i++) {
        arr.Set(static_cast<uint32_t>(i + 1), Napi::Number::New(env, req->nums[i]));
      }
      if (req->hasBytes) {
        b = Napi::Buffer<uint8_t>::Copy(env, req->bytes, req->len);
      }
    }
    dispatch.Call({fn, arr, b});
    if (env.IsExceptionPending()) {
      env.GetAndClearPendingException();
      self->Finish(id, -109, {});  // the dispatcher must always reply; a throw is answered here
    }
  }

  void Finish(uint32_t id, int code, std::vector<double> out) {
    Request *req = nullptr;
    {
      std::lock_guard<std::mutex> lk(callMutex_);
      auto it = pending_.find(id);
      if (it == pending_.end()) {
        return;
      }
      req = it->second;
      pending_.erase(it);
    }
    std::lock_guard<std::mutex> lk(req->m);
    req->code = code;
    req->out = std::move(out);
    req->done = true;
    req->cv.notify_all();
  }

  // start(firmwarePath, argv[], dispatch(fn, nums, bytes), onResult(id, code, bytes, num), onExit(rc)) -> undefined | error text
  Napi::Value Start(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsString() || !info[1].IsArray() || !info[2].IsFunction() || !info[3].IsFunction() || !info[4].IsFunction()) {
      return Napi::String::New(env, "start(path, argv, dispatch, onResult, onExit)");
    }
    if (started_) {
      return Napi::String::New(env, "a firmware is already running in this instance");
    }
    Addon *expected = nullptr;
    if (!g_bound.compare_exchange_strong(expected, this)) {
      return Napi::String::New(env, "another instance already runs a firmware in this process (the C symbols are process-wide)");
    }
    std::string path = info[0].As<Napi::String>();
    Napi::Array argv = info[1].As<Napi::Array>();
    args_.push_back(path);
    for (uint32_t i = 0; i < argv.Length(); i++) {
      args_.push_back(argv.Get(i).ToString());
    }
    // the addon's own iv_* symbols must be global before the firmware resolves against them
    Dl_info self{};
    if (dladdr(reinterpret_cast<void *>(&iv_avt_p2p_init), &self) == 0 || dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) == nullptr) {
      g_bound = nullptr;
      return Napi::String::New(env, std::string("cannot make the iv_* symbols global: ") + dlerror());
    }
    lib_ = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!lib_) {
      g_bound = nullptr;
      return Napi::String::New(env, std::string("dlopen: ") + dlerror());
    }
    auto entry = reinterpret_cast<int (*)(int, char **)>(dlsym(lib_, "iv_firmware_main"));
    if (!entry) {
      g_bound = nullptr;
      return Napi::String::New(env, "the firmware has no int iv_firmware_main(int argc, char **argv)");
    }
    requests_ = Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "iv_request", 0, 1);
    results_ = Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "iv_result", 0, 1);
    exits_ = Napi::ThreadSafeFunction::New(env, info[4].As<Napi::Function>(), "iv_exit", 0, 1);
    started_ = true;
    cbThread_ = std::thread([this] { CallbackLoop(); });
    cbThreadId_ = cbThread_.get_id();
    fwThread_ = std::thread([this, entry] {
      std::vector<char *> cargv;
      for (auto &a : args_) {
        cargv.push_back(const_cast<char *>(a.c_str()));
      }
      cargv.push_back(nullptr);
      int rc = entry(static_cast<int>(args_.size()), cargv.data());
      std::lock_guard<std::mutex> lk(callMutex_);
      if (!closed_) {
        exits_.NonBlockingCall(new int(rc), [](Napi::Env e, Napi::Function fn, int *v) {
          int code = *v;
          delete v;
          fn.Call({Napi::Number::New(e, code)});
        });
      }
    });
    fwThread_.detach();  // a firmware main that never returns is normal; shutdown abandons it
    return env.Undefined();
  }

  // reply(id, code, out[])
  Napi::Value Reply(const Napi::CallbackInfo &info) {
    std::vector<double> out;
    if (info.Length() > 2 && info[2].IsArray()) {
      Napi::Array a = info[2].As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        out.push_back(a.Get(i).ToNumber().DoubleValue());
      }
    }
    Finish(info[0].ToNumber().Uint32Value(), info[1].ToNumber().Int32Value(), std::move(out));
    return info.Env().Undefined();
  }

  // post(kind, id, num, s1, s2, bytes|null): a callback for the callback thread
  Napi::Value Post(const Napi::CallbackInfo &info) {
    Task t;
    t.kind = info[0].ToString();
    t.id = info[1].ToNumber().Uint32Value();
    t.num = info[2].ToNumber().DoubleValue();
    t.s1 = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : std::string();
    t.s2 = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : std::string();
    if (info.Length() > 5 && info[5].IsBuffer()) {
      auto b = info[5].As<Napi::Buffer<uint8_t>>();
      t.bytes.assign(b.Data(), b.Data() + b.Length());
      t.hasBytes = true;
    }
    if (t.kind == "send_init") {
      std::lock_guard<std::mutex> lk(streamMutex_);
      streams_[t.id] = Stream{};
    }
    {
      std::lock_guard<std::mutex> lk(taskMutex_);
      tasks_.push_back(std::move(t));
    }
    taskCv_.notify_one();
    return info.Env().Undefined();
  }

  // take(streamId) -> Buffer | null: the chunk p2p_handle_send_get_cb returned last
  Napi::Value Take(const Napi::CallbackInfo &info) {
    uint32_t id = info[0].ToNumber().Uint32Value();
    std::lock_guard<std::mutex> lk(streamMutex_);
    auto it = streams_.find(id);
    if (it == streams_.end() || !it->second.hasChunk) {
      return info.Env().Null();
    }
    auto buf = Napi::Buffer<uint8_t>::Copy(info.Env(), it->second.chunk.data(), it->second.chunk.size());
    it->second.hasChunk = false;
    it->second.chunk.clear();
    return buf;
  }

  Napi::Value Counters(const Napi::CallbackInfo &info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("sendGetCalls", Napi::Number::New(info.Env(), static_cast<double>(sendGets_.load())));
    o.Set("freed", Napi::Number::New(info.Env(), static_cast<double>(freed_.load())));
    return o;
  }

  Napi::Value Shutdown(const Napi::CallbackInfo &info) {
    StopThreads();
    return info.Env().Undefined();
  }

  void StopThreads() {
    std::map<uint32_t, Request *> waiting;
    {
      std::lock_guard<std::mutex> lk(callMutex_);
      if (closed_ || !started_) {
        closed_ = true;
        return;
      }
      closed_ = true;
      waiting.swap(pending_);
      requests_.Release();
      results_.Release();
      exits_.Release();
    }
    for (auto &kv : waiting) {
      std::lock_guard<std::mutex> lk(kv.second->m);
      kv.second->code = -109;
      kv.second->done = true;
      kv.second->cv.notify_all();
    }
    {
      std::lock_guard<std::mutex> lk(taskMutex_);
      quit_ = true;
      for (auto &t : tasks_) {
        if (t.barrier) {
          t.barrier();
        }
      }
      tasks_.clear();
    }
    taskCv_.notify_one();
    if (cbThread_.joinable()) {
      if (std::this_thread::get_id() == cbThread_.get_id()) {
        cbThread_.detach();
      } else {
        cbThread_.join();
      }
    }
  }

  void SendResult(uint32_t id, int code, const uint8_t *data, size_t len, bool has, double num) {
    std::lock_guard<std::mutex> lk(callMutex_);
    if (closed_) {
      return;
    }
    auto *r = new TaskResult{id, code, has ? std::vector<uint8_t>(data, data + len) : std::vector<uint8_t>(), has, num};
    results_.NonBlockingCall(r, [](Napi::Env e, Napi::Function fn, TaskResult *res) {
      Napi::Value bytes = res->hasBytes ? Napi::Buffer<uint8_t>::Copy(e, res->bytes.data(), res->bytes.size()).As<Napi::Value>() : e.Null();
      fn.Call({Napi::Number::New(e, res->id), Napi::Number::New(e, res->code), bytes, Napi::Number::New(e, res->num)});
      delete res;
      if (e.IsExceptionPending()) {
        e.GetAndClearPendingException();
      }
    });
  }

  void FreeOnce(const iv_cm_memory_s &m) {
    if (m.buf && m.buf_free_fn) {
      m.buf_free_fn(m.buf, m.size);
      freed_++;
    }
  }

  void RunTask(Task &t) {
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
      if (c.iv_cs_event_capture_picture_cb) {
        c.iv_cs_event_capture_picture_cb(static_cast<int32_t>(t.num), &pic, &size);
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

  void Poll() {
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

  void CallbackLoop() {
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

  bool started_ = false;
  bool closed_ = false;
  void *lib_ = nullptr;
  std::vector<std::string> args_;
  Napi::ThreadSafeFunction requests_, results_, exits_;
  std::mutex callMutex_;
  std::map<uint32_t, Request *> pending_;
  uint32_t nextReq_ = 1;
  std::thread cbThread_, fwThread_;
  std::thread::id cbThreadId_;
  std::mutex taskMutex_;
  std::condition_variable taskCv_;
  std::deque<Task> tasks_;
  bool quit_ = false;
  std::mutex streamMutex_;
  std::map<uint32_t, Stream> streams_;
  std::map<uint32_t, void *> voice_;       // callback thread only
  std::map<uint32_t, uint8_t *> pictures_;  // callback thread only
  uint32_t nextPic_ = 1;
  std::atomic<uint64_t> sendGets_{0}, freed_{0};
};

Addon *Bound() { return g_bound.load(); }

int Forward(const char *fn, std::vector<double> nums, int failCode, std::vector<double> *out = nullptr, const uint8_t *bytes = nullptr, size_t len = 0) {
  Addon *a = Bound();
  if (!a) {
    return failCode;
  }
  Request req;
  req.fn = fn;
  req.nums = std::move(nums);
  if (bytes) {
    req.bytes = bytes;
    req.len = len;
    req.hasBytes = true;
  }
  int code = a->Call(req, failCode);
  if (out) {
    *out = std::move(req.out);
  }
  return code;
}

}  // namespace

NODE_API_ADDON(Addon)

// ---------------------------------------------------------------- the C API (exported)
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
  int code = Forward("p2p_init", {static_cast<double>(pstInitParm->p2p_keep_alive.time_inter_s), static_cast<double>(pstInitParm->p2p_keep_alive.max_attempt_num)}, IV_ERR_AVT_FAILED);
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
