// addon.h — the iv_native addon's one object (Napi::Addon<Addon>, instance data only) as the
// three parts of it see it: addon.cc (the JS side: start, reply, post, take, shutdown;
// requests handed to the JS dispatcher), callback-thread.cc (the thread that runs every C
// callback in order and polls send_get) and c-api.cc (the exported iv_* symbols).
// Threading contract: native/README.md. Must never be included by firmware (its headers
// are include/iv_*.h).
#pragma once
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
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

namespace iv_native {

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

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  // ---- called by the exported C functions (any firmware thread): c-api.cc ----

  // Forward a request to JS and wait for its reply. Returns `failCode` if the host is gone.
  int Call(Request &req, int failCode);

  // P2P state the C side checks itself
  std::mutex stateMutex;
  bool p2pActive = false;
  iv_p2p_parm_s p2p{};
  bool csActive = false;
  iv_cs_init_parm_s cs{};

  // Wait until the callbacks posted so far have run (so e.g. push_stop comes before
  // iv_cs_exit returns). Not from the callback thread itself (it would wait for itself).
  void Drain();

  // JS stream id of a firmware handle (0: none)
  uint32_t StreamOf(void *handle);

 private:
  struct Delivery {
    Addon *self;
    uint32_t id;
  };

  // the JS side (addon.cc)
  static void DeliverRequest(Napi::Env env, Napi::Function dispatch, Delivery *d);
  void Finish(uint32_t id, int code, std::vector<double> out);
  Napi::Value Start(const Napi::CallbackInfo &info);
  Napi::Value Reply(const Napi::CallbackInfo &info);
  Napi::Value Post(const Napi::CallbackInfo &info);
  Napi::Value Take(const Napi::CallbackInfo &info);
  Napi::Value Counters(const Napi::CallbackInfo &info);
  Napi::Value Shutdown(const Napi::CallbackInfo &info);
  void StopThreads();
  void SendResult(uint32_t id, int code, const uint8_t *data, size_t len, bool has, double num);

  // the callback thread (callback-thread.cc)
  void FreeOnce(const iv_cm_memory_s &m);
  void RunTask(Task &t);
  void Poll();
  void CallbackLoop();

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

// The instance the exported iv_* symbols talk to (they carry no context): the one
// exception to instance data the C ABI forces. Set by start(), cleared by the destructor.
extern std::atomic<Addon *> g_bound;

inline Addon *Bound() { return g_bound.load(); }

// One iv_* call forwarded to JS as dispatch(fn, [id, ...nums], bytes); `failCode` if no host.
int Forward(const char *fn, std::vector<double> nums, int failCode, std::vector<double> *out = nullptr, const uint8_t *bytes = nullptr, size_t len = 0);

}  // namespace iv_native
