// iv_mem — what the gateway asks of the C library about its own process, nothing else:
// the calling thread's name (prctl PR_SET_NAME, Linux: `top -H`, /proc/PID/task/*/comm
// and the benchmarks' CPU breakdown tell the workers apart), and the allocator (glibc
// malloc): malloc_trim(0) gives the free pages of every arena back to the system (what the
// data channels of apps that left had taken: glibc keeps freed memory in its arenas
// otherwise, and RSS stays at its high-water mark), and mallinfo2 says how much is in
// use and how much is free inside the arenas. On a C library without them (musl) the
// functions answer false / zeros. And one copy: bytes into a typed array over shared
// memory with libc memcpy (V8 copies into a SharedArrayBuffer with relaxed atomic word
// stores, slower for the large frames a FrameRing takes). And the code pages: resident
// pages that are still a read-only file's own go out of the page tables (madvise), never a
// page that was written. And the calling thread's V8 isolate: its low-memory notification
// (full collections that shrink the heap; what the wrappers of closed connections held
// is freed by their finalizers). Loaded lazily by
// runtime/allocator.ts; never by the package's entries.
#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
#include <napi.h>
#include <v8.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#include <sys/prctl.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

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

// copyInto(dst, offset, src): src's bytes into dst from byte `offset` (Uint8Arrays, either
// over a SharedArrayBuffer); a range outside dst is refused, nothing is written then.
Napi::Value CopyInto(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(env, "copyInto(dst, offset, src): dst and src must be typed arrays, offset a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // napi_get_typedarray_info's data pointer (byte offset applied) works for a view over a
  // SharedArrayBuffer too; napi_get_arraybuffer_info would refuse that buffer
  void *to = nullptr;
  void *from = nullptr;
  size_t dstLength = 0;
  size_t srcLength = 0;
  napi_typedarray_type dstType;
  napi_typedarray_type srcType;
  if (napi_get_typedarray_info(env, info[0], &dstType, &dstLength, &to, nullptr, nullptr) != napi_ok ||
      napi_get_typedarray_info(env, info[2], &srcType, &srcLength, &from, nullptr, nullptr) != napi_ok ||
      dstType != napi_uint8_array || srcType != napi_uint8_array) {
    Napi::TypeError::New(env, "copyInto: dst and src must be Uint8Arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  double offset = info[1].As<Napi::Number>().DoubleValue();
  if (!(offset >= 0) || offset > static_cast<double>(dstLength) || srcLength > dstLength - static_cast<size_t>(offset)) {
    Napi::RangeError::New(env, "copyInto: offset + source length is outside the destination").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (srcLength > 0) {
    std::memmove(static_cast<uint8_t *>(to) + static_cast<size_t>(offset), from, srcLength);
  }
  return env.Undefined();
}

// At most `n` malloc arenas from now on (mallopt M_ARENA_MAX; glibc otherwise makes up to
// 8 per core, each keeping its own high-water mark); false where the C library cannot.
Napi::Value LimitArenas(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1) {
    Napi::TypeError::New(env, "limitArenas(n): n must be a number >= 1").ThrowAsJavaScriptException();
    return env.Undefined();
  }
#if defined(__GLIBC__)
  return Napi::Boolean::New(env, mallopt(M_ARENA_MAX, info[0].As<Napi::Number>().Int32Value()) == 1);
#else
  return Napi::Boolean::New(env, false);
#endif
}

// dropCleanFilePages(): the process's resident pages that are a plain copy of a file it
// maps read-only and private (the code and read-only data of node, its libraries and the
// addons) are taken out of its page tables with madvise(MADV_DONTNEED). They stay in the
// kernel's page cache: the next access to one maps it back (a minor fault), so what runs
// comes back and what ran only at start-up stays out. A mapping is left alone unless
// every resident page of it is the file's own (smaps `Anonymous: 0`: a private page once
// written, such as the dynamic linker's RELRO, is never dropped), it is not locked, and it
// is neither writable nor shared. Answers { mappings, bytes } (bytes resident in them
// before), or undefined where the system cannot (not Linux, no /proc).
Napi::Value DropCleanFilePages(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
#if defined(__linux__) && defined(MADV_DONTNEED)
  FILE *f = std::fopen("/proc/self/smaps", "re");
  if (f == nullptr) {
    return env.Undefined();
  }
  struct Range {
    uintptr_t start;
    uintptr_t end;
    unsigned long rssKb;
  };
  std::vector<Range> ranges;
  char *line = nullptr;
  size_t cap = 0;
  bool candidate = false;
  Range cur{0, 0, 0};
  unsigned long anonKb = 0;
  while (getline(&line, &cap, f) > 0) {
    unsigned long long a = 0;
    unsigned long long b = 0;
    char perms[8] = {0};
    unsigned long long inode = 0;
    int path = 0;
    if (std::sscanf(line, "%llx-%llx %7s %*s %*s %llu %n", &a, &b, perms, &inode, &path) >= 4) {
      // a mapping's first line: start-end perms offset dev inode [path]
      const char *name = line + path;
      candidate = inode != 0 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' && name[0] == '/';
      cur = Range{static_cast<uintptr_t>(a), static_cast<uintptr_t>(b), 0};
      anonKb = 0;
    } else if (std::strncmp(line, "Rss:", 4) == 0) {
      cur.rssKb = std::strtoul(line + 4, nullptr, 10);
    } else if (std::strncmp(line, "Anonymous:", 10) == 0) {
      anonKb = std::strtoul(line + 10, nullptr, 10);
    } else if (std::strncmp(line, "VmFlags:", 8) == 0) {
      // the mapping's last line: its flags (lo: locked, ht: hugetlb, io: I/O pages)
      const char *flags = line + 8;
      bool odd = std::strstr(flags, " lo") != nullptr || std::strstr(flags, " ht") != nullptr || std::strstr(flags, " io") != nullptr;
      if (candidate && anonKb == 0 && cur.rssKb > 0 && !odd) {
        ranges.push_back(cur);
      }
      candidate = false;
    }
  }
  std::free(line);
  std::fclose(f);
  double mappings = 0;
  double bytes = 0;
  for (const Range &r : ranges) {
    if (madvise(reinterpret_cast<void *>(r.start), r.end - r.start, MADV_DONTNEED) == 0) {
      mappings++;
      bytes += static_cast<double>(r.rssKb) * 1024;
    }
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("mappings", Napi::Number::New(env, mappings));
  o.Set("bytes", Napi::Number::New(env, bytes));
  return o;
#else
  return env.Undefined();
#endif
}

// V8's low-memory notification to the isolate of the calling thread (main or a worker):
// full collections in memory-reducing mode, the heap's free pages back to the system, and
// the finalizers of what was collected queued (the native objects of closed peer
// connections among them). Stops that isolate for the collections' time. false when the
// thread has no isolate.
Napi::Value LowMemory(const Napi::CallbackInfo &info) {
  v8::Isolate *isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) {
    return Napi::Boolean::New(info.Env(), false);
  }
  isolate->LowMemoryNotification();
  return Napi::Boolean::New(info.Env(), true);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("lowMemory", Napi::Function::New(env, LowMemory, "lowMemory"));
  exports.Set("dropCleanFilePages", Napi::Function::New(env, DropCleanFilePages, "dropCleanFilePages"));
  exports.Set("limitArenas", Napi::Function::New(env, LimitArenas, "limitArenas"));
  exports.Set("copyInto", Napi::Function::New(env, CopyInto, "copyInto"));
  exports.Set("trim", Napi::Function::New(env, Trim, "trim"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("setThreadName", Napi::Function::New(env, SetThreadName, "setThreadName"));
  return exports;
}

}  // namespace

NODE_API_MODULE(iv_mem, Init)
