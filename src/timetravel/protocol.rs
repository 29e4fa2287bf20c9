//! What time travel's processes say to each other, and how.
//!
//! ```text
//! machine (TimeMachine, in the caller)
//!   └─ server: `wtrace __timetravel TRACE`; its stdin is the control socket
//!        └─ checkpoint k: forked by the server after call k; one socket each
//!             └─ one child per request: replays on to call N, answers, exits
//! ```
//!
//! - control socket (seqpacket, one message each): server → machine
//!   [`Event`]s; a checkpoint's socket comes with its `Checkpoint` event
//!   (SCM_RIGHTS).
//! - a checkpoint's socket (seqpacket): machine → checkpoint [`Order`]s; a
//!   `State` order brings the socket its child is to answer on.
//! - an answer socket (stream, each message a u32 LE length then the
//!   message): the child's [`Answer`]s, `Started` first.
//!
//! Messages are bincode 2 through the trace codec ([`encode_message`]).
//! Sockets are close-on-exec: the machine's process may spawn others.

use super::Snapshot;
use crate::trace::{decode_message, encode_message};
use anyhow::{bail, Context, Result};
use nix::sys::socket::{
    recvmsg, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags,
    SockFlag, SockType,
};
use serde::{Deserialize, Serialize};
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Server → machine, on the control socket.
#[derive(Debug, Serialize, Deserialize)]
pub enum Event {
    /// First, before anything else: this is a wtrace that serves (the
    /// machine falls back to replaying from the start without it).
    Hello,
    /// A checkpoint holds the state when call `seq` returned; its socket
    /// comes with this message.
    Checkpoint { seq: u64, pid: u32 },
    /// Checkpoints thinned out (the oldest spacing halved): close them.
    Dropped { seqs: Vec<u64> },
    /// The forward pass has served this many calls.
    Progress { calls: u64 },
    /// The forward pass is over: it served `calls` calls (`None`: all of
    /// them), and failed when `error` says why.
    Finished {
        calls: Option<u64>,
        error: Option<String>,
    },
}

/// Machine → checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub enum Order {
    /// Fork a child that replays on to call `seq` and answers on the
    /// socket that comes with this order, with these memory ranges
    /// (address, length).
    State { seq: u64, regions: Vec<(u32, u32)> },
    /// The child `pid` has answered or was killed: reap it.
    Reap { pid: u32 },
}

/// A checkpoint's child → machine, on its answer socket.
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    /// First, so that a request can be cancelled by killing the child.
    Started { pid: u32 },
    /// The state, or why there is none.
    State(std::result::Result<Snapshot, String>),
}

/// Largest message on a seqpacket socket (events and orders are small).
const MAX_PACKET: usize = 1 << 16;

/// A connected pair of seqpacket sockets.
pub fn packet_pair() -> Result<(OwnedFd, OwnedFd)> {
    pair(SockType::SeqPacket)
}

/// A connected pair of stream sockets (for answers, which may be large).
pub fn stream_pair() -> Result<(OwnedFd, OwnedFd)> {
    pair(SockType::Stream)
}

fn pair(ty: SockType) -> Result<(OwnedFd, OwnedFd)> {
    socketpair(AddressFamily::Unix, ty, None, SockFlag::SOCK_CLOEXEC)
        .context("cannot make a socket pair")
}

/// Sends one message on a seqpacket socket, with `fd` attached.
pub fn send<T: Serialize>(socket: BorrowedFd, message: &T, fd: Option<BorrowedFd>) -> Result<()> {
    let bytes = encode_message(message)?;
    let fds: Vec<RawFd> = fd.iter().map(|f| f.as_raw_fd()).collect();
    let cmsgs: Vec<ControlMessage> = match fds.is_empty() {
        true => Vec::new(),
        false => vec![ControlMessage::ScmRights(&fds)],
    };
    let iov = [IoSlice::new(&bytes)];
    let sent = sendmsg::<()>(
        socket.as_raw_fd(),
        &iov,
        &cmsgs,
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
    .context("cannot send to a time-travel process")?;
    if sent != bytes.len() {
        bail!("a message to a time-travel process was cut short");
    }
    Ok(())
}

/// Receives one message from a seqpacket socket, with the fd that came
/// with it; `None` once the other end is closed.
pub fn receive<T: for<'de> Deserialize<'de>>(
    socket: BorrowedFd,
) -> Result<Option<(T, Option<OwnedFd>)>> {
    let mut buf = vec![0u8; MAX_PACKET];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let (len, fd) = loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other.context("cannot receive from a time-travel process")?,
        };
        let mut fd = None;
        for c in msg.cmsgs().into_iter().flatten() {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for raw in fds {
                    // SAFETY: the kernel just installed this descriptor for us.
                    let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                    fd.get_or_insert(owned);
                }
            }
        }
        break (msg.bytes, fd);
    };
    if len == 0 {
        return Ok(None);
    }
    let message = decode_message(&buf[..len], "a time-travel message")?;
    Ok(Some((message, fd)))
}

/// Writes one length-prefixed message on a stream socket.
pub fn write_answer(socket: BorrowedFd, answer: &Answer) -> Result<()> {
    let bytes = encode_message(answer)?;
    let mut framed = (bytes.len() as u32).to_le_bytes().to_vec();
    framed.extend_from_slice(&bytes);
    let mut rest = &framed[..];
    while !rest.is_empty() {
        match nix::unistd::write(socket, rest) {
            Ok(n) => rest = &rest[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e).context("cannot answer the time-travel machine"),
        }
    }
    Ok(())
}

/// Gathers the bytes of a stream socket into length-prefixed messages.
#[derive(Default)]
pub struct AnswerReader {
    buf: Vec<u8>,
}

impl AnswerReader {
    /// Reads what is there (one `read`); false once the other end closed.
    pub fn fill(&mut self, socket: BorrowedFd) -> Result<bool> {
        let mut chunk = [0u8; 1 << 16];
        let n = loop {
            match nix::unistd::read(socket, &mut chunk) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other.context("cannot read a time-travel answer")?,
            }
        };
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// The next whole message, when it has arrived.
    pub fn take(&mut self) -> Result<Option<Answer>> {
        let Some(head) = self.buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes(head.try_into().expect("4 bytes")) as usize;
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let answer = decode_message(&self.buf[4..4 + len], "a time-travel answer")?;
        self.buf.drain(..4 + len);
        Ok(Some(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    /// Answers arrive whole however the stream cuts them, and in order.
    #[test]
    fn answers_are_whole_messages_on_a_stream() {
        let (a, b) = stream_pair().unwrap();
        let snap = Snapshot {
            seq: 7,
            regions: vec![(0x100, vec![0xab; 100_000])],
            ..Snapshot::default()
        };
        let writer = std::thread::spawn(move || {
            write_answer(b.as_fd(), &Answer::Started { pid: 42 }).unwrap();
            write_answer(b.as_fd(), &Answer::State(Ok(snap))).unwrap();
        });
        let mut reader = AnswerReader::default();
        let mut got = Vec::new();
        while got.len() < 2 {
            match reader.take().unwrap() {
                Some(answer) => got.push(answer),
                None => assert!(reader.fill(a.as_fd()).unwrap(), "closed early"),
            }
        }
        writer.join().unwrap();
        assert!(matches!(got[0], Answer::Started { pid: 42 }));
        match &got[1] {
            Answer::State(Ok(s)) => {
                assert_eq!(s.seq, 7);
                assert_eq!(s.regions, [(0x100, vec![0xab; 100_000])]);
            }
            other => panic!("{other:?}"),
        }
        assert!(!reader.fill(a.as_fd()).unwrap(), "the writer closed");
    }

    /// A descriptor sent with a message arrives with it.
    #[test]
    fn a_socket_travels_with_its_message() {
        let (a, b) = packet_pair().unwrap();
        let (x, y) = packet_pair().unwrap();
        send(
            a.as_fd(),
            &Event::Checkpoint { seq: 3, pid: 9 },
            Some(x.as_fd()),
        )
        .unwrap();
        drop(x);
        let (event, fd) = receive::<Event>(b.as_fd()).unwrap().unwrap();
        assert!(matches!(event, Event::Checkpoint { seq: 3, pid: 9 }));
        let x = fd.expect("the socket came with it");
        send(x.as_fd(), &Order::Reap { pid: 5 }, None).unwrap();
        let (order, none) = receive::<Order>(y.as_fd()).unwrap().unwrap();
        assert!(matches!(order, Order::Reap { pid: 5 }) && none.is_none());
        drop(a);
        assert!(receive::<Event>(b.as_fd()).unwrap().is_none(), "closed");
    }
}
