"""The wire format of the channel between a kernel and the trusted checker (both ends use it).

A frame is an 8-byte length and a payload; a payload is a JSON header and a list of binary
blobs. A numpy array crosses as its raw bytes, with its dtype (as a string, never an object
dtype) and shape in the header: like `np.load(..., allow_pickle=False)`, nothing in it is ever
unpickled or executed, and it is three times faster than `.npy` per small array. Values are None,
bool, int, float, str, lists, tuples and str-keyed dicts of them, numpy arrays and scalars (exact
types only: a subclass is not plain data), and handles: an object that is not plain data stays
where it lives and crosses as a numbered handle.

This module and kernel_agent.py are the only files of the repository a sandboxed kernel sees.
"""
from __future__ import annotations

import json
import struct

ENV = "AUTOGRADER_CHANNEL"      # the path of the checker's socket, in the kernel's environment
MAX_FRAME = 256 * 2**20         # bytes: a larger frame is refused, not read
MAX_DEPTH = 20                  # nesting of lists, tuples and dicts
_PLAIN = (type(None), bool, int, float, str)
# numpy's floating-point errors that a "strict" call turns into exceptions (underflow stays
# silent: a stable implementation underflows on purpose, exp(-1e4) is 0).
STRICT = {"over": "raise", "invalid": "raise", "divide": "raise", "under": "ignore"}
# Where a student's exception was raised crosses with it (kernel_agent.cell_frames): the
# innermost frames of the student's cells, each [execution count, line, function, source line].
MAX_FRAMES = 6
MAX_CODE = 160      # characters of a source line


class ChannelClosed(ConnectionError):
    """The other side went away (a kernel that died, was interrupted, or broke the protocol)."""


# -- frames -------------------------------------------------------------------------------------

def _recv_exactly(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def send(sock, header: dict, blobs: list[bytes] = ()) -> None:
    head = json.dumps(header, allow_nan=True).encode()
    parts = [struct.pack("!QI", len(head) + sum(8 + len(b) for b in blobs) + 4, len(head)), head]
    for blob in blobs:
        parts += [struct.pack("!Q", len(blob)), blob]
    sock.sendall(b"".join(parts))


def recv(sock) -> tuple[dict, list[bytes]]:
    size, head_len = struct.unpack("!QI", _recv_exactly(sock, 12))
    if size > MAX_FRAME or head_len + 4 > size:
        raise ChannelClosed(f"a frame of {size:,} bytes is over the limit")
    body = _recv_exactly(sock, size - 4)
    header = json.loads(body[:head_len])
    blobs, at = [], head_len
    while at < len(body):
        (n,) = struct.unpack("!Q", body[at:at + 8])
        blobs.append(body[at + 8:at + 8 + n])
        at += 8 + n
    if not isinstance(header, dict):
        raise ChannelClosed("a frame without a header")
    return header, blobs


# -- values -------------------------------------------------------------------------------------

def encode(value, blobs: list[bytes], handle, depth: int = 0):
    """`value` as JSON-able data; arrays go to `blobs`; anything else becomes `handle(value)`."""
    import numpy as np
    kind = type(value)
    if kind in _PLAIN:
        return {"v": value}
    if depth < MAX_DEPTH and kind in (list, tuple):
        return {"list" if kind is list else "tuple":
                [encode(v, blobs, handle, depth + 1) for v in value]}
    if depth < MAX_DEPTH and kind is dict and all(type(k) is str for k in value):
        return {"dict": {k: encode(v, blobs, handle, depth + 1) for k, v in value.items()}}
    if kind is np.ndarray or isinstance(value, np.generic) and type(value).__module__ == "numpy":
        array = np.asarray(value)
        if not array.dtype.hasobject and array.dtype.names is None:
            blobs.append(np.ascontiguousarray(array).tobytes())
            return {"nd" if kind is np.ndarray else "np":
                    [len(blobs) - 1, array.dtype.str, list(array.shape)]}
    return handle(value)


def decode(data, blobs: list[bytes], resolve, depth: int = 0):
    """The inverse of `encode`; `resolve(data)` turns a handle's description into an object."""
    if not isinstance(data, dict) or len(data) != 1 or depth > MAX_DEPTH:
        raise ChannelClosed("malformed value")
    (tag, body), = data.items()
    if tag == "v" and type(body) in _PLAIN:
        return body
    if tag in ("list", "tuple") and isinstance(body, list):
        items = [decode(v, blobs, resolve, depth + 1) for v in body]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and isinstance(body, dict):
        return {k: decode(v, blobs, resolve, depth + 1) for k, v in body.items()}
    if tag in ("nd", "np"):
        array = _array(body, blobs)
        return array if tag == "nd" else array[()]
    return resolve(tag, body)


def _array(body, blobs):
    """An array from [blob index, dtype string, shape], checked before anything is built."""
    import numpy as np
    if not (isinstance(body, list) and len(body) == 3 and type(body[0]) is int
            and 0 <= body[0] < len(blobs) and isinstance(body[1], str) and len(body[1]) < 16
            and isinstance(body[2], list) and all(type(n) is int and n >= 0 for n in body[2])):
        raise ChannelClosed("malformed array")
    try:
        dtype = np.dtype(body[1])
    except TypeError:
        raise ChannelClosed("malformed array") from None
    blob, shape = blobs[body[0]], tuple(body[2])
    if dtype.hasobject or dtype.names is not None or \
            len(blob) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise ChannelClosed("malformed array")
    return np.frombuffer(blob, dtype=dtype).reshape(shape).copy()


def error_info(err: BaseException) -> dict:
    return {"type": type(err).__name__, "message": str(err)[:4000]}
