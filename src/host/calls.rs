//! Host functions for the preview1 imports of the modes that serve calls
//! themselves (record and replay): one definition per table entry, with the
//! raw arguments and the guest's memory handed to the mode's handler.

use crate::syscalls::{self, Syscall};
use anyhow::Result;
use std::mem::MaybeUninit;
use wasmtime::{
    AsContextMut, Caller, Extern, FuncType, Linker, Memory, ValRaw, ValType, WasmBacktrace,
};

/// Store data of a mode that serves preview1 calls itself.
pub trait CallHost: 'static {
    /// Where the guest's memory is kept once looked up.
    fn memory_slot(&mut self) -> &mut Option<Memory>;

    /// Whether [`CallHost::wants_stack`] can ever say yes: a mode that never
    /// shows stacks (record) pays nothing for them, not even the question.
    const MAY_WANT_STACK: bool = false;

    /// Whether [`CallHost::wants_stack`] can say yes in this run: asked
    /// first, since looking at the memory for it costs a lookup per call.
    fn may_want_stack(&self) -> bool {
        Self::MAY_WANT_STACK
    }

    /// Whether the handler of this call needs the guest's call stack,
    /// decided from the guest's memory before the call. Capturing it costs
    /// a walk of the stack, so modes ask only when they show it.
    fn wants_stack(&self, _memory: &[u8]) -> bool {
        false
    }
}

/// What a handler gets for one call.
pub struct GuestCall<'a, T> {
    pub state: &'a mut T,
    /// The guest's linear memory.
    pub memory: &'a mut [u8],
    /// Raw arguments, i32s zero-extended.
    pub args: &'a [u64],
    /// wasmtime's hostcall fuel, for wasmtime-wasi's copy limits.
    pub fuel: usize,
    /// The guest's call stack, innermost first, when
    /// [`CallHost::wants_stack`] asked for it.
    pub stack: Option<WasmBacktrace>,
}

/// Defines `sys` as a host function: its arguments and the guest's memory
/// go to `handle`, whose result is the errno the guest gets (an error is a
/// trap or proc_exit).
pub fn define<T: CallHost>(
    linker: &mut Linker<T>,
    sys: &'static Syscall,
    handle: impl Fn(GuestCall<'_, T>) -> wasmtime::Result<i32> + Send + Sync + 'static,
) -> Result<()> {
    let ty = func_type(linker.engine(), sys);
    let n = sys.params.len();
    let wide = i64_params(sys);
    let host_fn = move |mut caller: Caller<'_, T>,
                        vals: &mut [MaybeUninit<ValRaw>]|
          -> wasmtime::Result<()> {
        let mut args = [0u64; 9];
        raw_args(&wide[..n], vals, &mut args);
        let fuel = caller.as_context_mut().hostcall_fuel();
        let cached = *caller.data_mut().memory_slot();
        let memory = guest_memory(&mut caller, cached)?;
        *caller.data_mut().memory_slot() = Some(memory);
        let stack = (T::MAY_WANT_STACK
            && caller.data().may_want_stack()
            && caller.data().wants_stack(memory.data(&caller)))
        .then(|| WasmBacktrace::force_capture(&caller));
        let (data, state) = memory.data_and_store_mut(&mut caller);
        let errno = handle(GuestCall {
            state,
            memory: data,
            args: &args[..n],
            fuel,
            stack,
        })?;
        if !sys.no_return {
            vals[0].write(ValRaw::i32(errno));
        }
        Ok(())
    };
    // SAFETY: `host_fn` reads exactly the parameters and writes exactly the
    // result of `ty`, which is built from the same table entry.
    unsafe {
        linker
            .func_new_unchecked(syscalls::MODULE, sys.name, ty, host_fn)
            .map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// The core-wasm type of a preview1 function.
pub fn func_type(engine: &wasmtime::Engine, sys: &Syscall) -> FuncType {
    let params = sys
        .param_is_i64()
        .map(|is64| if is64 { ValType::I64 } else { ValType::I32 });
    let results = if sys.no_return {
        vec![]
    } else {
        vec![ValType::I32]
    };
    FuncType::new(engine, params, results)
}

/// Which parameters are i64, worked out once per function rather than per call.
fn i64_params(sys: &Syscall) -> [bool; 9] {
    let mut wide = [false; 9];
    for (w, is64) in wide.iter_mut().zip(sys.param_is_i64()) {
        *w = is64;
    }
    wide
}

/// Reads the raw arguments out of wasmtime's value slots; `wide` says which
/// parameters are i64.
pub fn raw_args(wide: &[bool], vals: &[MaybeUninit<ValRaw>], args: &mut [u64; 9]) {
    for (i, &is64) in wide.iter().enumerate() {
        // SAFETY: wasmtime initialises one slot per parameter of the type
        // declared in `func_type`.
        let v = unsafe { vals[i].assume_init() };
        args[i] = if is64 {
            v.get_i64() as u64
        } else {
            v.get_i32() as u32 as u64
        };
    }
}

/// The guest's exported memory, looked up once per store.
pub fn guest_memory<T>(
    caller: &mut Caller<'_, T>,
    cached: Option<Memory>,
) -> wasmtime::Result<Memory> {
    if let Some(m) = cached {
        return Ok(m);
    }
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        Some(Extern::SharedMemory(_)) => Err(wasmtime::Error::msg(
            "the guest exports a shared memory; wtrace records non-shared memories only",
        )),
        _ => Err(wasmtime::Error::msg(
            "the guest exports no `memory`, which preview1 calls need",
        )),
    }
}
