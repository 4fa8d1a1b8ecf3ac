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
// This file: the addon's JS side (start the firmware, reply to its requests, post
// callbacks, take send_get chunks, shut down) and the request hand-over to the JS
// dispatcher. The callback thread is callback-thread.cc, the exported symbols c-api.cc.
// Instance data only (Napi::Addon<Addon>, addon.h), but for `g_bound`.
#include "addon.h"

#include <dlfcn.h>

namespace iv_native {

std::atomic<Addon *> g_bound{nullptr};

Addon::Addon(Napi::Env env, Napi::Object exports) {
  DefineAddon(exports, {
      InstanceMethod("start", &Addon::Start),
      InstanceMethod("reply", &Addon::Reply),
      InstanceMethod("post", &Addon::Post),
      InstanceMethod("take", &Addon::Take),
      InstanceMethod("shutdown", &Addon::Shutdown),
      InstanceMethod("counters", &Addon::Counters),
  });
}

Addon::~Addon() {
  StopThreads();
  Addon *self = this;
  g_bound.compare_exchange_strong(self, nullptr);
}

// Forward a request to JS and wait for its reply. Returns `failCode` if the host is gone.
int Addon::Call(Request &req, int failCode) {
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

// JS stream id of a firmware handle (0: none)
uint32_t Addon::StreamOf(void *handle) {
  std::lock_guard<std::mutex> lk(streamMutex_);
  for (auto &kv : streams_) {
    if (kv.second.ready && kv.second.handle == handle) {
      return kv.first;
    }
  }
  return 0;
}

// main thread: hand one request to the JS dispatcher as dispatch(fn, [id, ...nums], bytes)
void Addon::DeliverRequest(Napi::Env env, Napi::Function dispatch, Delivery *d) {
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

void Addon::Finish(uint32_t id, int code, std::vector<double> out) {
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
Napi::Value Addon::Start(const Napi::CallbackInfo &info) {
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
Napi::Value Addon::Reply(const Napi::CallbackInfo &info) {
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
Napi::Value Addon::Post(const Napi::CallbackInfo &info) {
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
Napi::Value Addon::Take(const Napi::CallbackInfo &info) {
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

Napi::Value Addon::Counters(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("sendGetCalls", Napi::Number::New(info.Env(), static_cast<double>(sendGets_.load())));
  o.Set("freed", Napi::Number::New(info.Env(), static_cast<double>(freed_.load())));
  return o;
}

Napi::Value Addon::Shutdown(const Napi::CallbackInfo &info) {
  StopThreads();
  return info.Env().Undefined();
}

void Addon::StopThreads() {
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

void Addon::SendResult(uint32_t id, int code, const uint8_t *data, size_t len, bool has, double num) {
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

int Forward(const char *fn, std::vector<double> nums, int failCode, std::vector<double> *out, const uint8_t *bytes, size_t len) {
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

}  // namespace iv_native

using iv_native::Addon;
NODE_API_ADDON(Addon)
