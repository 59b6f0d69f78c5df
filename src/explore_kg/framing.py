"""The wire between the server and its query workers: a socket pair carrying length-prefixed frames.

Every message is an 8-byte big-endian length, then a pickle (or raw bytes: the dataset sent at start).
A frame may carry one file descriptor (SCM_RIGHTS) on its first byte: a result too large to cross the
socket as bytes crosses as an open, unlinked temporary file instead, so that neither process holds
it in memory and the worker is free as soon as the file is written (:mod:`explore_kg.pool` streams
it to the client at the client's pace).
"""

from __future__ import annotations

import array
import socket
import struct

HEADER = struct.Struct("!Q")


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view, pos = memoryview(buf), 0
    while pos < n:
        got = sock.recv_into(view[pos:])
        if not got:
            raise EOFError
        pos += got
    return bytes(buf)


def recv_frame(sock: socket.socket) -> bytes:
    (n,) = HEADER.unpack(recv_exact(sock, HEADER.size))
    return recv_exact(sock, n)


def send_frame(sock: socket.socket, payload: bytes, fd: int | None = None) -> None:
    """Send one frame (blocking), with ``fd`` passed along if given."""
    header = HEADER.pack(len(payload))
    if fd is not None:
        first = header + payload[:1 << 16]
        sent = sock.sendmsg([first], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
        rest = first[sent:] + payload[1 << 16:]
        if rest:
            sock.sendall(rest)
    elif len(payload) < 1 << 20:  # one system call (copying a small answer costs less than a second one)
        sock.sendall(header + payload)
    else:
        sock.sendall(header)
        sock.sendall(payload)


_FD_SPACE = socket.CMSG_SPACE(4 * array.array("i").itemsize)


def recv_with_fds(sock: socket.socket, size: int) -> tuple[bytes, list[int]]:
    """What the socket holds (up to ``size`` bytes) and the file descriptors that came with it."""
    data, ancillary, _flags, _addr = sock.recvmsg(size, _FD_SPACE)
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i")
            a.frombytes(payload[:len(payload) - len(payload) % a.itemsize])
            fds.extend(a)
    return data, fds


class FrameReader:
    """Frames from a blocking socket, reading what is there at once (a query's header and text
    usually arrive together: one recv instead of two)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = bytearray()

    def next(self) -> bytes:
        buffer = self.buffer
        while True:
            if len(buffer) >= HEADER.size:
                end = HEADER.size + HEADER.unpack_from(buffer)[0]
                if len(buffer) >= end:
                    frame = bytes(buffer[HEADER.size:end])
                    del buffer[:end]
                    return frame
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError
            buffer += chunk
