"""Opus encode/decode of 16 kHz mono float32 audio through libopus (ctypes), for the training-data pack.

The pack (training/pack.py) has to travel to a lent GPU machine inside its 64 MiB working-tree limit, and that machine
has no ffmpeg or soundfile: libopus.so is carried with the pack and called directly, here and there. Audio is cut into
independent segments (each its own encoder / decoder), so both ends parallelise over processes. Decoding returns the
segment sample-aligned with the input (the encoder's lookahead is dropped), so the cache's utterance index still fits.
"""
import ctypes
import ctypes.util
import os

import numpy as np

SR = 16000
FRAME = 960  # 60 ms: the longest Opus frame, least per-packet overhead at low bitrates
APPLICATION_AUDIO = 2049
SET_BITRATE = 4002
SET_COMPLEXITY = 4010
GET_LOOKAHEAD = 4027
MAX_PACKET = 4000


class OpusError(Exception):
    pass


def load_lib(path=None):
    """libopus from `path` (the copy carried in a pack), else the system's."""
    name = path or ctypes.util.find_library("opus") or "libopus.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as e:
        raise OpusError(f"libopus not loadable ({name}): {e}") from e
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode_float.restype = ctypes.c_int32
    lib.opus_encode_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
    lib.opus_decode_float.restype = ctypes.c_int
    lib.opus_decode_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int,
                                      ctypes.c_int]
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    return lib


def _lookahead(lib, enc):
    v = ctypes.c_int32(0)
    if lib.opus_encoder_ctl(ctypes.c_void_p(enc), GET_LOOKAHEAD, ctypes.byref(v)) != 0:
        raise OpusError("OPUS_GET_LOOKAHEAD failed")
    return int(v.value)


def encode_segment(x, kbps, lib_path=None):
    """float32 [n] -> (packet bytes uint8, packet lengths uint16, lookahead samples)."""
    lib = load_lib(lib_path)
    err = ctypes.c_int(0)
    enc = lib.opus_encoder_create(SR, 1, APPLICATION_AUDIO, ctypes.byref(err))
    if err.value != 0 or not enc:
        raise OpusError(f"opus_encoder_create failed ({err.value})")
    try:
        for req, val in ((SET_BITRATE, int(kbps * 1000)), (SET_COMPLEXITY, 10)):
            if lib.opus_encoder_ctl(ctypes.c_void_p(enc), req, ctypes.c_int32(val)) != 0:
                raise OpusError(f"opus_encoder_ctl({req}, {val}) failed")
        la = _lookahead(lib, enc)
        n = len(x)
        frames = -(-(n + la) // FRAME)
        pcm = np.zeros(frames * FRAME, np.float32)
        pcm[:n] = np.clip(x, -1.0, 1.0)
        buf = (ctypes.c_ubyte * MAX_PACKET)()
        chunks, lens = [], np.zeros(frames, np.uint16)
        for i in range(frames):
            k = lib.opus_encode_float(ctypes.c_void_p(enc), pcm[i * FRAME:].ctypes.data, FRAME, buf, MAX_PACKET)
            if k < 0:
                raise OpusError(f"opus_encode_float failed ({k})")
            lens[i] = k
            chunks.append(bytes(buf[:k]))
    finally:
        lib.opus_encoder_destroy(ctypes.c_void_p(enc))
    return np.frombuffer(b"".join(chunks), np.uint8), lens, la


def decode_segment(packets, lens, n, lookahead, lib_path=None):
    """The inverse of encode_segment: float32 [n], aligned with the encoder's input."""
    lib = load_lib(lib_path)
    err = ctypes.c_int(0)
    dec = lib.opus_decoder_create(SR, 1, ctypes.byref(err))
    if err.value != 0 or not dec:
        raise OpusError(f"opus_decoder_create failed ({err.value})")
    out = np.zeros(len(lens) * FRAME, np.float32)
    packets = np.ascontiguousarray(packets)
    try:
        off = 0
        for i, k in enumerate(lens):
            got = lib.opus_decode_float(ctypes.c_void_p(dec), packets[off:].ctypes.data, int(k),
                                        out[i * FRAME:].ctypes.data, FRAME, 0)
            if got != FRAME:
                raise OpusError(f"opus_decode_float returned {got} at packet {i}")
            off += int(k)
    finally:
        lib.opus_decoder_destroy(ctypes.c_void_p(dec))
    if len(out) < lookahead + n:
        raise OpusError("decoded segment shorter than its input")
    return out[lookahead:lookahead + n]


def carried_lib_copy(dst_dir):
    """Copies the system libopus next to a pack (the GPU machine has none); returns the file name."""
    import shutil
    src = ctypes.util.find_library("opus")
    if not src:
        raise OpusError("libopus not found on this machine (apt-get install libopus0)")
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"):
        p = os.path.join(d, src)
        if os.path.isfile(p):
            shutil.copy2(os.path.realpath(p), os.path.join(dst_dir, "libopus.so.0"))
            return "libopus.so.0"
    raise OpusError(f"libopus file {src} not found in the usual library folders")
