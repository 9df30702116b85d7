// Splits a `perf record -e cpu-clock -g` profile of a Node server (recorded with --perf-basic-prof, e.g.
// by `node dist/bench/messages.js --perf FILE`) into where the CPU goes, per message:
//   node dist/bench/perf-split.js FILE [--messages N] [--top 25] [FILE2 --messages N2 …]
// With several files the buckets are printed side by side (one column per file).
// Each sample goes to one bucket by its innermost frame that says who works (libc's memcpy/malloc are
// charged to their caller): kernel by system call (read, write/sendmsg, epoll, futex; wake-ups of other
// tasks and page faults apart), libuv, Node's C++ (stream_base and handle wraps, buffers and string
// encoding, callbacks into JS), V8 (GC, IC misses, other runtime calls, builtins, the interpreter,
// the JS↔C++ boundary), JIT'd JavaScript (Parley's by source directory, Node's own JS library, others),
// and threads other than the main one. µs/msg = samples × the sampling period / N. A second table
// gives inclusive shares: samples whose stack passes through a frame (the read path, the write path…).
import { execFileSync } from 'node:child_process';

interface Frame { sym: string; dso: string }

const args = process.argv.slice(2);
const runs: { file: string; messages: number }[] = [];
let top = 25;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--messages') runs[runs.length - 1]!.messages = Number(args[++i]);
  else if (args[i] === '--top') top = Number(args[++i]);
  else runs.push({ file: args[i]!, messages: 0 });
}
if (runs.length === 0) {
  console.error('usage: perf-split.js FILE [--messages N] [FILE2 --messages N2 …] [--top 25]');
  process.exit(2);
}

const isLibc = (f: Frame): boolean => /libc\.so|libstdc\+\+|libm\.so|ld-linux/.test(f.dso) || f.sym === '[unknown]';
const isKernel = (f: Frame): boolean => f.dso.includes('kernel');

/** The kernel bucket of a sample whose innermost frame is in the kernel. */
function kernelBucket(frames: Frame[]): string {
  const syms = frames.filter(isKernel).map((f) => f.sym);
  const has = (re: RegExp): boolean => syms.some((s) => re.test(s));
  let sys = 'kernel: other';
  if (has(/ksys_read|__x64_sys_read\b|do_readv|sys_recvmsg|sys_recvfrom/)) sys = 'kernel: read';
  else if (has(/ksys_write|__x64_sys_write\b|do_writev|sys_sendmsg|sys_sendto|__sys_sendmsg/)) sys = 'kernel: write/sendmsg';
  else if (has(/epoll_wait|epoll_pwait|do_epoll/)) sys = 'kernel: epoll';
  else if (has(/futex/)) sys = 'kernel: futex';
  else if (has(/exc_page_fault|do_user_addr_fault/)) return 'kernel: page faults';
  else if (has(/^(__x64_sys_|do_syscall_64)/)) sys = 'kernel: other system calls';
  else if (has(/irq|softirq|apic_timer|sysvec/)) return 'kernel: interrupts';
  // Waking another task (the reader of what was written: sock_def_readable; a sleeping thread) and switching tasks.
  if (has(/try_to_wake_up|ttwu_|__wake_up_common|wake_up_q|sock_def_readable|ep_poll_callback|__wake_up_sync/)) return `${sys} (waking a task)`;
  if (has(/^(__schedule|schedule|finish_task_switch)/)) return `${sys} (scheduler)`;
  return sys;
}

/** The user-space bucket of a frame (null: not telling, look at its caller). */
function userBucket(f: Frame, main: boolean): string | null {
  const s = f.sym;
  if (f.dso.includes('perf-') && s.startsWith('JS:')) {
    if (/dist\/src\/xml\//.test(s)) return 'JS: Parley xml (parser, serializer)';
    if (/dist\/src\/transport\//.test(s)) return 'JS: Parley transport';
    if (/dist\/src\/core\//.test(s)) return 'JS: Parley core (session, router, hooks)';
    if (/dist\/src\/(modules|xmpp|chat|qb)\//.test(s)) return 'JS: Parley modules, xmpp, chat';
    if (/dist\/src\//.test(s)) return 'JS: Parley other';
    if (/dist\/bench\//.test(s)) return 'JS: bench relay (the floor)';
    if (/ node:/.test(s)) return /node:(net|internal\/stream_base_commons|internal\/streams|stream)/.test(s) ? 'JS: Node net/streams' : 'JS: Node other (events, timers, ticks…)';
    return 'JS: libraries';
  }
  if (f.dso.includes('perf-')) return 'JS: other JIT code (stubs, regexp)';
  if (/^v8::internal::(Heap|Scavenger|ScavengerCollector|MarkCompact|MinorMarkCompact|Sweeper|ConcurrentMarking|IncrementalMarking|MemoryAllocator|GCTracer|PagedSpace|NewSpace|SemiSpace|LargeObjectSpace|MemoryChunk|Page|MarkingVisitor|MainMarkingVisitor|ConcurrentMarkingVisitor|EvacuationVerifier|Evacuator|RememberedSet|SlotSet|LocalHeap|ArrayBufferSweeper|ObjectStartBitmap|TypedSlot|MutablePageMetadata|IterateAndScavenge|LocalAllocator|EvacuateVisitorBase|EvacuateNewSpaceVisitor|RecordMigratedSlotVisitor|ObjectVisitor|PretenuringHandler)|GCTracer|Scavenge|MarkCompact|Sweeper|MarkingWorklist|Heap::/.test(s)) return main ? 'V8: GC' : 'V8: GC (helper thread)';
  if (/^v8::internal::Runtime_.*(IC|Miss)/.test(s) || /^v8::internal::(IC|LoadIC|StoreIC|KeyedLoadIC|KeyedStoreIC|FeedbackNexus|FeedbackVector|LoadHandler|StoreHandler)/.test(s)) return 'V8: IC misses, feedback';
  if (/^v8::internal::(compiler|Compiler|baseline|maglev|Parser|Scanner|interpreter::BytecodeGenerator|Deoptimizer|OptimizingCompileDispatcher)/.test(s) || /^v8::internal::Runtime_(Compile|Optimize|Notify|Deopt)/.test(s)) return main ? 'V8: compilation, deopts' : 'V8: compiler threads';
  if (/^Builtins_.*(IC|LoadGlobal|StoreGlobal|KeyedLoad|KeyedStore)/.test(s)) return 'V8 builtins: inline-cache handlers';
  if (/^Builtins_(InterpreterEntryTrampoline|.*Handler$|.*Bytecode)/.test(s)) return 'V8: interpreter';
  if (/^Builtins_(CEntry|CallApiCallback|CallFunction|Call_|JSEntry|JSEntryTrampoline|ArgumentsAdaptor)|^v8::internal::(FunctionCallbackArguments|.*HandleApiCall|Builtin_HandleApiCall|Execution|.*Invoke)|^v8::(Function::Call|Object::|String::|Value::|ArrayBuffer|Uint8Array|Isolate::|HandleScope|EscapableHandleScope|Context::)/.test(s)) return 'V8: JS↔C++ calls (API)';
  if (/^Builtins_/.test(s)) {
    if (/Promise|Microtask|AsyncFunction|Await/.test(s)) return 'V8 builtins: promises, microtasks';
    if (/String|RegExp|StringAdd|Utf|SubString/.test(s)) return 'V8 builtins: strings, regexps';
    return 'V8 builtins: other';
  }
  if (/^v8::internal::Runtime_/.test(s)) return 'V8: runtime calls (other)';
  if (/^(v8::|v8_inspector|cppgc)/.test(s)) return 'V8: other';
  if (/^uv_|^uv__/.test(s)) return 'libuv';
  if (/^node::(StreamBase|LibuvStreamWrap|StreamReq|WriteWrap|ShutdownWrap|StreamResource|EmitToJSStreamListener|ReportWritesToJSStreamListener|CustomBufferJSListener|TCPWrap|ConnectionWrap|HandleWrap|crypto::TLSWrap|StreamListener)/.test(s)) return 'Node C++: stream_base, handle wraps';
  if (/^node::(StringBytes|Buffer|StringDecoder|encoding|Utf8Value|BufferValue|TwoByteValue|.*Encode|.*Decode|simdutf)|^simdutf/.test(s)) return 'Node C++: buffers, string encoding';
  if (/^node::(InternalMakeCallback|AsyncWrap|MakeCallback|InternalCallbackScope|CallbackScope|AsyncHooks|Environment::RunAndClearNativeImmediates|.*Tick|BaseObject|Environment::)/.test(s)) return 'Node C++: callbacks into JS, async_wrap';
  if (/^node::/.test(s)) return 'Node C++: other';
  if (f.dso.includes('/node')) return 'Node binary: other';
  return null;
}

function bucketOf(frames: Frame[], main: boolean): string {
  if (frames.length === 0) return 'unknown';
  if (isKernel(frames[0]!)) return kernelBucket(frames);
  for (const f of frames) {
    if (isLibc(f)) continue;
    const b = userBucket(f, main);
    if (b) return b;
  }
  return /libc/.test(frames[0]!.dso) ? 'libc (no caller resolved)' : 'unknown';
}

// Inclusive shares: the sample's stack passes through one of these.
const inclusive: [string, RegExp][] = [
  ['read path: uv__read and below (incl. all the JS it runs)', /^uv__read$/],
  ['  of which the read syscall (kernel)', /^ksys_read$/],
  ['  of which JS run for the data (onStreamRead)', /onStreamRead /],
  ['write path: Node C++ StreamBase write and below', /^node::StreamBase::(Write|WriteBuffer|WriteString|Writev)|^node::LibuvStreamWrap::DoTryWrite|^uv_try_write$|^uv_write$/],
  ['  of which the write syscall (kernel)', /^ksys_write$|^do_writev$|^__sys_sendmsg$/],
  ['  of which the receiving TCP path run in the write (softirq)', /^tcp_v4_rcv$/],
  ['  of which waking the receiver (sock_def_readable)', /^sock_def_readable$/],
  ['epoll_wait (incl. sleeping/switching)', /do_epoll_wait/],
  ['process.nextTick / microtask queue (processTicksAndRejections)', /processTicksAndRejections /],
  ['write callbacks (afterWrite*, onWriteComplete)', /(afterWrite|afterWriteTick|onWriteComplete|afterWriteDispatched) /],
  ['timers (listOnTimeout / processTimers)', /(listOnTimeout|processTimers) /],
  ['Parley StreamParser (all below it)', /dist\/src\/xml\/stream-parser\.js/],
  ['Parley serialize (all below it)', /serialize.*dist\/src\/xml\/element\.js/],
  ['Parley flushAll / flush (all below it)', /(flushAll|flush) .*dist\/src\/transport\/socket\.js/],
  ['V8 GC anywhere', /^v8::internal::(Heap::|ScavengerCollector|Scavenger::|MarkCompactCollector|MinorMarkCompact)/],
];

interface Split { total: number; main: number; period: number; buckets: Map<string, number>; incl: Map<string, number>; leaves: Map<string, number>; messages: number }

function split(file: string, messages: number): Split {
  const out = execFileSync('perf', ['script', '-F', 'comm,pid,tid,period,ip,sym,dso', '-i', file], { maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const s: Split = { total: 0, main: 0, period: 0, buckets: new Map(), incl: new Map(), leaves: new Map(), messages };
  const add = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const flush = (head: string | null, frames: Frame[]): void => {
    if (!head) return;
    const m = /^\S+\s+(\d+)\/(\d+)\s+(\d+)/.exec(head.trim());
    if (!m) return;
    const main = m[1] === m[2];
    s.total++;
    s.period = Number(m[3]);
    if (!main) {
      const b = bucketOf(frames, false);
      add(s.buckets, b.startsWith('V8: GC') ? 'other threads: V8 GC helpers' : b.startsWith('V8: compil') ? 'other threads: V8 compiler' : 'other threads: other');
      return;
    }
    s.main++;
    add(s.buckets, bucketOf(frames, true));
    add(s.leaves, frames[0] ? `${frames[0].sym} (${frames[0].dso.replace(/.*\//, '')})` : '?');
    for (const [label, re] of inclusive) if (frames.some((f) => re.test(f.sym))) add(s.incl, label);
  };
  let head: string | null = null;
  let frames: Frame[] = [];
  for (const line of out.split('\n')) {
    if (line === '') continue;
    if (!/^\s/.test(line)) {
      flush(head, frames);
      head = line;
      frames = [];
      continue;
    }
    const m = /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)\s*$/.exec(line);
    if (m) frames.push({ sym: m[1]!, dso: m[2]! });
  }
  flush(head, frames);
  return s;
}

const splits = runs.map((r) => split(r.file, r.messages));
const perMsg = (s: Split, n: number): string => (s.messages ? ((n * s.period) / 1000 / s.messages).toFixed(2) : '');
const fmt = (s: Split, n: number): string => `${perMsg(s, n)} (${((100 * n) / s.total).toFixed(1)} %)`;

const order = (m: Map<string, number>[]): string[] => {
  const keys = new Map<string, number>();
  for (const x of m) for (const [k, v] of x) keys.set(k, (keys.get(k) ?? 0) + v);
  return [...keys].sort((a, b) => b[1] - a[1]).map(([k]) => k);
};
const group = (k: string): string => (k.startsWith('kernel') ? '1 kernel' : k.startsWith('libuv') || k.startsWith('Node') ? '2 libuv/Node C++' : k.startsWith('V8') ? '3 V8' : k.startsWith('JS') ? '4 JS' : '5 other');
const keys = order(splits.map((s) => s.buckets)).sort((a, b) => group(a).localeCompare(group(b)));
console.log(`| bucket | ${runs.map((r) => `${r.file}: µs/msg (% of samples)`).join(' | ')} |`);
console.log(`| --- | ${runs.map(() => '---').join(' | ')} |`);
let last = '';
for (const k of keys) {
  const g = group(k);
  if (g !== last) {
    last = g;
    console.log(`| **${g.slice(2)}** | ${splits.map((s) => `**${fmt(s, [...s.buckets].filter(([b]) => group(b) === g).reduce((a, [, n]) => a + n, 0))}**`).join(' | ')} |`);
  }
  console.log(`| ${k} | ${splits.map((s) => fmt(s, s.buckets.get(k) ?? 0)).join(' | ')} |`);
}
console.log(`| **all samples** | ${splits.map((s) => `**${fmt(s, s.total)}** (${s.total} samples, main thread ${((100 * s.main) / s.total).toFixed(1)} %)`).join(' | ')} |`);
console.log('');
console.log(`| inclusive (main thread) | ${runs.map((r) => r.file).join(' | ')} |`);
console.log(`| --- | ${runs.map(() => '---').join(' | ')} |`);
for (const [label] of inclusive) console.log(`| ${label} | ${splits.map((s) => fmt(s, s.incl.get(label) ?? 0)).join(' | ')} |`);
for (const [i, s] of splits.entries()) {
  console.log(`\ntop innermost frames, main thread, ${runs[i]!.file}:`);
  for (const [k, n] of [...s.leaves].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${fmt(s, n).padStart(16)}  ${k}`);
}
