//! The helpers the replacements call: reading the stream, applying a
//! call's effects, the real stdout/stderr write, and the messages.

use super::{mem, Gen, Global, Helper, DIGITS_END, IOVEC, REAL_FD_WRITE};
use crate::reproducer::layout::{CLOCK_SLOTS, HEAD_LONG};
use wasm_encoder::{BlockType, Function, InstructionSink, ValType};

use ValType::{I32, I64};

/// `local.tee`s the u64 on the stack into `tmp` and leaves its zigzag
/// decoding (a signed i64).
fn unzigzag(s: &mut InstructionSink, tmp: u32) {
    s.local_tee(tmp).i64_const(1).i64_shr_u();
    s.i64_const(0)
        .local_get(tmp)
        .i64_const(1)
        .i64_and()
        .i64_sub();
    s.i64_xor();
}

impl Gen<'_> {
    /// () -> i64: the next unsigned LEB128 number of the calls segment.
    pub(super) fn leb(&self) -> Function {
        let (value, shift, byte, saved) = (0, 1, 2, 3);
        let cursor = self.global(Global::Cursor);
        let mut f = Function::new([(2, I64), (2, I32)]);
        let mut s = f.instructions();
        s.loop_(BlockType::Empty);
        // Borrow address 0 for one byte of the segment.
        s.i32_const(0).i32_load8_u(mem(0)).local_set(saved);
        s.i32_const(0).global_get(cursor).i32_const(1);
        s.memory_init(0, self.calls_seg);
        s.i32_const(0).i32_load8_u(mem(0)).local_set(byte);
        s.i32_const(0).local_get(saved).i32_store8(mem(0));
        s.global_get(cursor)
            .i32_const(1)
            .i32_add()
            .global_set(cursor);
        s.local_get(value).local_get(byte).i32_const(0x7f).i32_and();
        s.i64_extend_i32_u()
            .local_get(shift)
            .i64_shl()
            .i64_or()
            .local_set(value);
        s.local_get(shift).i64_const(7).i64_add().local_set(shift);
        s.local_get(byte).i32_const(0x80).i32_and().br_if(0);
        s.end();
        s.local_get(value).end();
        f
    }

    /// (code) -> (): steps to the next recorded call and checks that it is
    /// a call of `code`; sets Result and Effects. Diverges otherwise.
    pub(super) fn next(&self) -> Function {
        let (code, recorded, short, head) = (0, 1, 2, 3);
        let cursor = self.global(Global::Cursor);
        let leb = self.func(Helper::Leb);
        let diverge = self.func(Helper::Diverge);
        let (result, effects) = (self.global(Global::Result), self.global(Global::Effects));
        let mut f = Function::new([(2, I32), (1, I64)]);
        let mut s = f.instructions();
        // The stream is read through address 0: a memory with no page yet
        // gets one (only a program that makes calls before it has any
        // memory can tell).
        s.memory_size(0).i32_eqz().if_(BlockType::Empty);
        s.i32_const(1).memory_grow(0).drop().end();
        s.global_get(cursor)
            .i32_const(self.l.calls_len as i32)
            .i32_ge_u();
        s.if_(BlockType::Empty)
            .local_get(code)
            .i32_const(-1)
            .call(diverge)
            .end();
        s.call(leb)
            .local_tee(head)
            .i64_const(3)
            .i64_shr_u()
            .i32_wrap_i64();
        s.local_tee(recorded).local_get(code).i32_ne();
        s.if_(BlockType::Empty)
            .local_get(code)
            .local_get(recorded)
            .call(diverge)
            .end();
        // A short head holds `effects`, with errno 0; a long one is followed by both.
        s.local_get(head)
            .i64_const(7)
            .i64_and()
            .i32_wrap_i64()
            .local_tee(short);
        s.i32_const(HEAD_LONG as i32).i32_eq().if_(BlockType::Empty);
        s.call(leb).i32_wrap_i64().global_set(result);
        s.call(leb).i32_wrap_i64().global_set(effects);
        s.else_().i32_const(0).global_set(result);
        s.local_get(short).global_set(effects).end();
        let served = self.global(Global::Served);
        s.global_get(served)
            .i32_const(1)
            .i32_add()
            .global_set(served);
        s.end();
        f
    }

    /// () -> (): writes the current call's memory effects.
    pub(super) fn apply(&self) -> Function {
        let (n, addr, len, slot, tag, tmp, value) = (0, 1, 2, 3, 4, 5, 6);
        let (cursor, last) = (self.global(Global::Cursor), self.global(Global::LastAddr));
        let leb = self.func(Helper::Leb);
        let mut f = Function::new([(4, I32), (3, I64)]);
        let mut s = f.instructions();
        s.global_get(self.global(Global::Effects))
            .i32_const(1)
            .i32_shr_u()
            .local_set(n);
        s.block(BlockType::Empty).loop_(BlockType::Empty);
        s.local_get(n).i32_eqz().br_if(1);
        s.global_get(last).call(leb);
        unzigzag(&mut s, tmp);
        s.i32_wrap_i64().i32_add().local_tee(addr).global_set(last);
        s.call(leb).local_tee(tag).i64_const(1).i64_and().i64_eqz();
        s.if_(BlockType::Empty);
        // Raw bytes, straight from the segment to their address.
        s.local_get(addr).global_get(cursor);
        s.local_get(tag)
            .i64_const(1)
            .i64_shr_u()
            .i32_wrap_i64()
            .local_tee(len);
        s.memory_init(0, self.calls_seg);
        s.global_get(cursor)
            .local_get(len)
            .i32_add()
            .global_set(cursor);
        s.else_();
        // A clock reading: the last one of its clock plus a delta.
        s.local_get(tag)
            .i64_const(1)
            .i64_shr_u()
            .i32_wrap_i64()
            .local_set(slot);
        s.call(leb);
        unzigzag(&mut s, tmp);
        s.local_set(value);
        for k in 0..CLOCK_SLOTS {
            let g = self.global(Global::Clock) + k;
            s.local_get(slot)
                .i32_const(k as i32)
                .i32_eq()
                .if_(BlockType::Empty);
            s.global_get(g)
                .local_get(value)
                .i64_add()
                .local_tee(value)
                .global_set(g);
            s.local_get(addr).local_get(value).i64_store(mem(0));
            s.end();
        }
        s.end();
        s.local_get(n).i32_const(1).i32_sub().local_set(n);
        s.br(0).end().end().end();
        f
    }

    /// (fd, iovs, iovs_len, nwritten, total) -> (): writes the first
    /// `total` bytes of the guest's iovecs to `fd` for real, one iovec at a
    /// time (the entry is pointed at what is left, then put back), and
    /// leaves `total` at `nwritten` as the recording did.
    pub(super) fn write_stdio(&self) -> Function {
        let (fd, iovs, iovs_len, nwritten, total) = (0, 1, 2, 3, 4);
        let (i, entry, buf, n, off, done, recorded, saved) = (5, 6, 7, 8, 9, 10, 11, 12);
        let mut f = Function::new([(7, I32), (1, I64)]);
        let mut s = f.instructions();
        s.local_get(total).local_set(recorded);
        s.block(BlockType::Empty).loop_(BlockType::Empty);
        s.local_get(total).i32_eqz().br_if(1);
        s.local_get(i).local_get(iovs_len).i32_ge_u().br_if(1);
        s.local_get(iovs)
            .local_get(i)
            .i32_const(8)
            .i32_mul()
            .i32_add()
            .local_tee(entry);
        s.i64_load(mem(0)).local_set(saved);
        s.local_get(entry).i32_load(mem(0)).local_set(buf);
        // n = min(iov len, total)
        s.local_get(entry)
            .i32_load(mem(4))
            .local_tee(n)
            .local_get(total);
        s.local_get(n)
            .local_get(total)
            .i32_lt_u()
            .select()
            .local_set(n);
        s.i32_const(0).local_set(off);
        s.block(BlockType::Empty).loop_(BlockType::Empty);
        s.local_get(off).local_get(n).i32_ge_u().br_if(1);
        s.local_get(entry)
            .local_get(buf)
            .local_get(off)
            .i32_add()
            .i32_store(mem(0));
        s.local_get(entry)
            .local_get(n)
            .local_get(off)
            .i32_sub()
            .i32_store(mem(4));
        s.local_get(fd)
            .local_get(entry)
            .i32_const(1)
            .local_get(nwritten);
        s.call(REAL_FD_WRITE).br_if(1);
        s.local_get(nwritten)
            .i32_load(mem(0))
            .local_tee(done)
            .i32_eqz()
            .br_if(1);
        s.local_get(off).local_get(done).i32_add().local_set(off);
        s.br(0).end().end();
        s.local_get(entry).local_get(saved).i64_store(mem(0));
        s.local_get(total).local_get(n).i32_sub().local_set(total);
        s.local_get(i).i32_const(1).i32_add().local_set(i);
        s.br(0).end().end();
        s.local_get(nwritten).local_get(recorded).i32_store(mem(0));
        s.end();
        f
    }

    /// Appends text `t` (offset, len in the text segment) at `pos`.
    fn text(&self, s: &mut InstructionSink, pos: u32, (off, len): (i32, i32)) {
        s.local_get(pos).i32_const(off).i32_const(len);
        s.memory_init(0, self.text_seg);
        s.local_get(pos).i32_const(len).i32_add().local_set(pos);
    }

    /// Starts a message: memory to write it in, "wtrace reproducer: call #N: ".
    fn message_start(&mut self, s: &mut InstructionSink, pos: u32) {
        s.memory_size(0).i32_eqz().if_(BlockType::Empty);
        s.i32_const(1).memory_grow(0).drop().end();
        s.i32_const(0).local_set(pos);
        let t = self.texts.add("wtrace reproducer: call #");
        self.text(s, pos, t);
        // The call being made is the one after those served.
        s.local_get(pos)
            .global_get(self.global(Global::Served))
            .i64_extend_i32_u();
        s.call(self.func(Helper::Number)).local_set(pos);
    }

    /// (made, recorded or -1 past the end) -> !: says where the program
    /// left the recorded path and traps.
    pub(super) fn diverge(&mut self) -> Function {
        let (made, recorded, pos) = (0, 1, 2);
        let name = self.func(Helper::Name);
        let mut f = Function::new([(1, I32)]);
        let mut s = f.instructions();
        self.message_start(&mut s, pos);
        let t = self.texts.add(": the program called ");
        self.text(&mut s, pos, t);
        s.local_get(pos).local_get(made).call(name).local_set(pos);
        s.local_get(recorded)
            .i32_const(-1)
            .i32_eq()
            .if_(BlockType::Empty);
        let t = self
            .texts
            .add(" after the last recorded call (the recording has ");
        self.text(&mut s, pos, t);
        s.local_get(pos).i64_const(self.l.total_calls as i64);
        s.call(self.func(Helper::Number)).local_set(pos);
        let t = self.texts.add(" calls)\n");
        self.text(&mut s, pos, t);
        s.else_();
        let t = self.texts.add(" where the recording has ");
        self.text(&mut s, pos, t);
        s.local_get(pos)
            .local_get(recorded)
            .call(name)
            .local_set(pos);
        let t = self.texts.add("; it left the recorded path\n");
        self.text(&mut s, pos, t);
        s.end();
        s.local_get(pos)
            .call(self.func(Helper::Print))
            .unreachable()
            .end();
        f
    }

    /// () -> (): after `_start` returned: says so and traps if the
    /// recording has calls left.
    pub(super) fn ended(&mut self) -> Function {
        let (pos, head) = (0, 1);
        let cursor = self.global(Global::Cursor);
        let mut f = Function::new([(1, I32), (1, I64)]);
        let mut s = f.instructions();
        s.global_get(cursor)
            .i32_const(self.l.calls_len as i32)
            .i32_ge_u();
        s.if_(BlockType::Empty).return_().end();
        s.call(self.func(Helper::Leb)).local_set(head);
        self.message_start(&mut s, pos);
        let t = self
            .texts
            .add(": the program returned from _start where the recording has ");
        self.text(&mut s, pos, t);
        s.local_get(pos)
            .local_get(head)
            .i64_const(3)
            .i64_shr_u()
            .i32_wrap_i64();
        s.call(self.func(Helper::Name)).local_set(pos);
        let t = self.texts.add("; it left the recorded path\n");
        self.text(&mut s, pos, t);
        s.local_get(pos)
            .call(self.func(Helper::Print))
            .unreachable()
            .end();
        f
    }

    /// (code) -> !: the recorded call trapped; so does this one.
    pub(super) fn trapped(&mut self) -> Function {
        let (code, pos) = (0, 1);
        let mut f = Function::new([(1, I32)]);
        let mut s = f.instructions();
        // message_start numbers the next call: this one was served already.
        let served = self.global(Global::Served);
        s.global_get(served)
            .i32_const(1)
            .i32_sub()
            .global_set(served);
        self.message_start(&mut s, pos);
        let t = self.texts.add(": ");
        self.text(&mut s, pos, t);
        s.local_get(pos)
            .local_get(code)
            .call(self.func(Helper::Name));
        s.local_set(pos);
        let t = self.texts.add(" trapped in the recording\n");
        self.text(&mut s, pos, t);
        s.local_get(pos)
            .call(self.func(Helper::Print))
            .unreachable()
            .end();
        f
    }

    /// (pos, code) -> pos: appends the function's name.
    pub(super) fn name(&mut self) -> Function {
        let (pos, code) = (0, 1);
        let mut f = Function::new([]);
        let mut s = f.instructions();
        for (c, t) in self.names.clone() {
            s.local_get(code)
                .i32_const(c as i32)
                .i32_eq()
                .if_(BlockType::Empty);
            self.text(&mut s, pos, t);
            s.local_get(pos).return_().end();
        }
        let t = self.texts.add("an unknown function");
        self.text(&mut s, pos, t);
        s.local_get(pos).end();
        f
    }

    /// (pos, n) -> pos: appends n in decimal.
    pub(super) fn number(&self) -> Function {
        let (pos, n, p) = (0, 1, 2);
        let mut f = Function::new([(1, I32)]);
        let mut s = f.instructions();
        s.i32_const(DIGITS_END).local_set(p);
        s.loop_(BlockType::Empty);
        s.local_get(p).i32_const(1).i32_sub().local_tee(p);
        s.local_get(n).i64_const(10).i64_rem_u().i32_wrap_i64();
        s.i32_const(b'0' as i32).i32_add().i32_store8(mem(0));
        s.local_get(n).i64_const(10).i64_div_u().local_tee(n);
        s.i64_const(0).i64_ne().br_if(0).end();
        s.local_get(pos)
            .local_get(p)
            .i32_const(DIGITS_END)
            .local_get(p)
            .i32_sub();
        s.memory_copy(0, 0);
        s.local_get(pos)
            .i32_const(DIGITS_END)
            .i32_add()
            .local_get(p)
            .i32_sub()
            .end();
        f
    }

    /// (len) -> (): writes memory [0, len) to stderr.
    pub(super) fn print(&self) -> Function {
        let len = 0;
        let mut f = Function::new([]);
        let mut s = f.instructions();
        s.i32_const(IOVEC).i32_const(0).i32_store(mem(0));
        s.i32_const(IOVEC).local_get(len).i32_store(mem(4));
        s.i32_const(2)
            .i32_const(IOVEC)
            .i32_const(1)
            .i32_const(IOVEC + 8);
        s.call(REAL_FD_WRITE).drop().end();
        f
    }
}
