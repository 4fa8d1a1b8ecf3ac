// iv_mem — what the gateway asks of the C library about its own process, nothing else:
// the calling thread's name (prctl PR_SET_NAME, Linux: `top -H`, /proc/PID/task/*/comm
// and the benchmarks' CPU breakdown tell the workers apart), and the allocator (glibc
// malloc): malloc_trim(0) gives the free pages of every arena back to the system (what the
// data channels of apps that left had taken: glibc keeps freed memory in its arenas
// otherwise, and RSS stays at its high-water mark), and mallinfo2 says how much is in
// use and how much is free inside the arenas. On a C library without them (musl) the
// functions answer false / zeros. Loaded lazily by runtime/allocator.ts; never by the
// package's entries.
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <string>

namespace {

// Name the calling thread (at most 15 bytes are kept); false where the system cannot.
Napi::Value SetThreadName(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "setThreadName(name): name must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#if defined(__linux__)
  std::string name = info[0].As<Napi::String>().Utf8Value().substr(0, 15);
  return Napi::Boolean::New(env, prctl(PR_SET_NAME, name.c_str(), 0, 0, 0) == 0);
#else
  return Napi::Boolean::New(env, false);
#endif
}

Napi::Value Trim(const Napi::CallbackInfo &info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  o.Set("arenaBytes", Napi::Number::New(env, static_cast<double>(m.arena + m.hblkhd)));
  o.Set("inUseBytes", Napi::Number::New(env, static_cast<double>(m.uordblks + m.hblkhd)));
  o.Set("freeBytes", Napi::Number::New(env, static_cast<double>(m.fordblks)));
  o.Set("releasableBytes", Napi::Number::New(env, static_cast<double>(m.keepcost)));
  o.Set("glibc", Napi::Boolean::New(env, true));
#else
  o.Set("glibc", Napi::Boolean::New(env, false));
#endif
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("trim", Napi::Function::New(env, Trim, "trim"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("setThreadName", Napi::Function::New(env, SetThreadName, "setThreadName"));
  return exports;
}

}  // namespace

NODE_API_MODULE(iv_mem, Init)
