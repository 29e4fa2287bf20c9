;; manycalls: 10,000 sched_yield calls between two clock readings, then one
;; line on stdout; _start returns (exit 0). A recording closes a chunk every
;; 4096 calls, so its trace holds several chunks: a sample trace for readers
;; of the format (traces/manycalls.wtrace).
;;
;;   wtrace record -o traces/manycalls.wtrace examples/wat/manycalls.wat
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: iovec, 8: nwritten, 16: time, 64: the line
  (data (i32.const 64) "10000 sched_yield calls\n")
  (func (export "_start")
    (local $i i32)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 16)))
    (loop $again
      (drop (call $sched_yield))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 10000))))
    (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 16)))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 24))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
