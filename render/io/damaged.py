"""Damaged test media: small seed clips written with PyAV, and ways to break them.

For fuzzing the media layer (tests/fuzz, benchmarks/fuzz_media.py): every kind
of damage is a function ``(seed bytes, random.Random) -> bytes``, deterministic
for a given generator state, so a failing case is named by (kind, seed, number)
and rebuilt exactly. Nothing here is needed to grade a video.

Seeds (:func:`write_seeds`) are tiny (32x24 pixels, 12 frames) so thousands of
cases run in minutes: H.264 + AAC in MP4 with the index (moov) at the end and at
the start, H.264 + FLAC in Matroska, H.264 + PCM in QuickTime, and "odd audio"
seeds (float PCM holding NaN and infinities, PCM with an unspecified channel
layout, a video-less file).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from render.io.synthetic import ClipSpec, pattern_frame, write_clip

SEED_SPEC = ClipSpec(width=32, height=24, frames=12, gop=4, audio_channels=2, sample_rate=8000)


@dataclass(frozen=True)
class Seed:
    """A seed clip: its name (``mp4_moov_end``...), container suffix and bytes."""

    name: str
    suffix: str
    data: bytes


# --------------------------------------------------------------------- seeds

def _remux(src: Path, dst: Path, options: dict | None = None, pts_map: Callable | None = None) -> Path:
    """Copy every packet of ``src`` into ``dst`` (its container from the suffix); ``pts_map(index,
    packet)`` may move a packet's timestamps (timestamp jumps)."""
    with av.open(str(src)) as a, av.open(str(dst), "w", options=options or {}) as b:
        streams = {s.index: b.add_stream_from_template(s) for s in a.streams if s.type in ("video", "audio")}
        for k, packet in enumerate(a.demux()):
            if packet.dts is None or packet.stream.index not in streams:
                continue
            if pts_map is not None:
                pts_map(k, packet)
            packet.stream = streams[packet.stream.index]
            b.mux(packet)
    return dst


def _odd_audio_clip(path: Path, samples: np.ndarray, layout: str, codec: str, fmt: str) -> Path:
    """A short clip whose soundtrack is ``samples`` (channels, n) float32 as given (NaN, Inf...)."""
    spec = SEED_SPEC
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=spec.fps)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.codec_context.options = {"x264-params": "keyint=4:min-keyint=4:scenecut=0"}
        audio = container.add_stream(codec, rate=spec.sample_rate)
        audio.layout = layout
        audio.format = fmt
        for i in range(spec.frames):
            frame = av.VideoFrame.from_ndarray(pattern_frame(i, spec.width, spec.height), format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame.reformat(format="yuv420p")))
        container.mux(video.encode(None))
        block = 1024
        for start in range(0, samples.shape[1], block):
            chunk = np.ascontiguousarray(samples[:, start:start + block], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(chunk.T.reshape(1, -1) if fmt == "flt" else chunk,
                                               format=fmt, layout=layout)
            frame.sample_rate, frame.pts = spec.sample_rate, start
            container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    return path


def write_seeds(folder: str | Path) -> list[Seed]:
    """Write the seed clips into ``folder`` and return them (with their bytes)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    base = write_clip(folder / "seed_moov_end.mp4", SEED_SPEC)
    paths = {
        "mp4_moov_end": base,
        "mp4_moov_start": _remux(base, folder / "seed_moov_start.mp4", {"movflags": "+faststart"}),
        "mkv": write_clip(folder / "seed.mkv", ClipSpec(**{**SEED_SPEC.__dict__, "audio_codec": "flac"})),
        "mov": write_clip(folder / "seed.mov", ClipSpec(**{**SEED_SPEC.__dict__, "audio_codec": "pcm_s16le"})),
        "audio_only_m4a": write_clip(folder / "seed_audio.m4a", ClipSpec(**{**SEED_SPEC.__dict__, "video": False})),
    }
    n = int(SEED_SPEC.sample_rate * SEED_SPEC.frames / SEED_SPEC.fps)
    tone = np.sin(np.arange(n) * 0.05, dtype=np.float32) * 0.5
    nan_inf = np.stack([tone, tone]).copy()
    nan_inf[0, ::97] = np.nan
    nan_inf[1, ::89] = np.inf
    nan_inf[1, ::83] = -np.inf
    paths["mkv_nan_audio"] = _odd_audio_clip(folder / "seed_nan.mkv", nan_inf, "stereo", "pcm_f32le", "flt")
    # a PCM track whose channel layout is unspecified ("2 channels"), as many recorders write it
    paths["mkv_unspecified_layout"] = _odd_audio_clip(folder / "seed_unspec.mkv", np.stack([tone, tone]),
                                                      "2 channels", "pcm_f32le", "flt")
    return [Seed(name, path.suffix, path.read_bytes()) for name, path in paths.items()]


# -------------------------------------------------------------------- damage

def _boxes(data: bytes, start: int = 0, end: int | None = None, depth: int = 0):
    """(offset, size, type) of the ISO-BMFF boxes in ``data[start:end]``, containers descended."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end and depth < 8:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1 and pos + 16 <= end:
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield pos, size, kind
        if kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"):
            yield from _boxes(data, pos + header, pos + size, depth + 1)
        pos += size


def _pick_box(data: bytes, rng: random.Random, kinds=None):
    boxes = [b for b in _boxes(data) if kinds is None or b[2] in kinds]
    return rng.choice(boxes) if boxes else None


def truncate(data: bytes, rng: random.Random) -> bytes:
    """The file cut at a random point (early, middle or just before the end)."""
    where = rng.choice([rng.randrange(1, 64), rng.randrange(1, len(data)), len(data) - rng.randrange(1, 64)])
    return data[:max(1, where)]


def flip_header(data: bytes, rng: random.Random) -> bytes:
    """1-8 random bits flipped in the first 1024 bytes (the header or the box tree)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(min(1024, len(out)))] ^= 1 << rng.randrange(8)
    return bytes(out)


def flip_payload(data: bytes, rng: random.Random) -> bytes:
    """1-32 random bits flipped anywhere after the first 1024 bytes."""
    out = bytearray(data)
    lo = min(1024, len(out) - 1)
    for _ in range(rng.randint(1, 32)):
        out[rng.randrange(lo, len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def zero_range(data: bytes, rng: random.Random) -> bytes:
    """A random range of 1 byte to a quarter of the file set to zero."""
    length = rng.randint(1, max(1, len(data) // 4))
    start = rng.randrange(len(data))
    return data[:start] + bytes(min(length, len(data) - start)) + data[start + length:]


def bad_box_size(data: bytes, rng: random.Random) -> bytes:
    """An MP4/MOV box's size field set to 0, 1, 7, too large, one off, or random."""
    box = _pick_box(data, rng)
    if box is None:
        return flip_header(data, rng)
    pos, size, _ = box
    value = rng.choice([0, 1, 7, 8, size - 1, size + 1, size * 2, 0xFFFFFFFF, rng.randrange(1 << 32)])
    return data[:pos] + struct.pack(">I", value & 0xFFFFFFFF) + data[pos + 4:]


def cut_moov(data: bytes, rng: random.Random) -> bytes:
    """Part of the index removed: a child box of moov deleted, or moov cut short in place."""
    box = _pick_box(data, rng, {b"trak", b"stbl", b"stts", b"stsz", b"stco", b"stsc", b"stss", b"ctts", b"mvhd",
                                b"tkhd", b"mdhd", b"hdlr", b"stsd", b"moov"})
    if box is None:
        return truncate(data, rng)
    pos, size, _ = box
    if rng.random() < 0.5:
        return data[:pos] + data[pos + size:]                   # sizes of the parents now lie
    keep = rng.randrange(8, max(9, size))
    return data[:pos + keep] + data[pos + size:]


def noise_stream(data: bytes, rng: random.Random) -> bytes:
    """Random bytes written over 1-6 spans of the payload (mdat, clusters)."""
    out = bytearray(data)
    mdat = _pick_box(data, rng, {b"mdat"})
    lo, hi = (mdat[0] + 16, mdat[0] + mdat[1]) if mdat else (len(data) // 8, len(data))
    for _ in range(rng.randint(1, 6)):
        if hi - lo < 2:
            break
        start = rng.randrange(lo, hi - 1)
        length = rng.randint(1, min(256, hi - start))
        out[start:start + length] = rng.randbytes(length)
    return bytes(out)


def unknown_codec(data: bytes, rng: random.Random) -> bytes:
    """A codec tag or codec id (avc1, mp4a, flac, sowt, V_MPEG4/ISO/AVC...) renamed to one no decoder knows."""
    tags = [t for t in (b"avc1", b"mp4a", b"sowt", b"twos", b"fLaC", b"V_MPEG4/ISO/AVC", b"A_FLAC", b"A_PCM",
                        b"A_AAC") if t in data[16:]]
    if not tags:
        return flip_header(data, rng)
    tag = rng.choice(tags)
    at = data.index(tag, 16)
    name = bytes(rng.choice(b"QXZJKW") for _ in range(len(tag)))
    return data[:at] + name + data[at + len(tag):]


def duplicate_span(data: bytes, rng: random.Random) -> bytes:
    """A span of the file repeated in place (a copy glitch), or two spans swapped."""
    a = rng.randrange(len(data))
    length = rng.randint(1, max(1, len(data) // 8))
    span = data[a:a + length]
    if rng.random() < 0.5:
        return data[:a] + span + data[a:]
    b = rng.randrange(len(data))
    lo, hi = sorted((a, b))
    other = data[hi:hi + length]
    return data[:lo] + other + data[lo + len(other):hi] + span + data[hi + len(span):]


def rename_box(data: bytes, rng: random.Random) -> bytes:
    """A box's type renamed (moov -> xoov, ...): a required box goes missing."""
    box = _pick_box(data, rng)
    if box is None:
        return flip_header(data, rng)
    pos = box[0] + 4
    return data[:pos] + bytes(rng.choice(b"abcdefxyz") for _ in range(4)) + data[pos + 4:]


def append_garbage(data: bytes, rng: random.Random) -> bytes:
    """Random bytes, or a second copy of the header, after the end of the file."""
    tail = rng.randbytes(rng.randint(1, 4096)) if rng.random() < 0.5 else data[:rng.randint(8, 2048)]
    return data + tail


DAMAGE: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "truncate": truncate,
    "flip_header": flip_header,
    "flip_payload": flip_payload,
    "zero_range": zero_range,
    "bad_box_size": bad_box_size,
    "cut_moov": cut_moov,
    "noise_stream": noise_stream,
    "unknown_codec": unknown_codec,
    "duplicate_span": duplicate_span,
    "rename_box": rename_box,
    "append_garbage": append_garbage,
}
"""Byte-level damage, by name."""

TIMESTAMP_JUMPS = ("forward", "backward", "duplicate", "huge", "negative", "none_dts")


def timestamp_jump(src: Path, dst: Path, rng: random.Random) -> Path:
    """``src`` remuxed into ``dst`` with the timestamps of some packets moved: a jump forward or
    back, a duplicated timestamp, a huge or negative value."""
    how = rng.choice(TIMESTAMP_JUMPS)
    at = rng.randrange(2, 20)
    shift = {"forward": 10_000, "backward": -3_000, "huge": 1 << 40, "negative": -(1 << 20)}.get(how, 0)

    def move(k: int, packet: av.Packet) -> None:
        if k < at or packet.pts is None:
            return
        if how == "duplicate" and k == at:
            packet.pts = packet.dts = max(0, packet.pts - int(1 / (SEED_SPEC.fps * packet.time_base)))
        elif shift and (how != "negative" or k == at):
            packet.pts += shift
            packet.dts = packet.pts if packet.dts is None else packet.dts + shift

    try:
        return _remux(src, dst, pts_map=move)
    except (av.FFmpegError, ValueError, OverflowError):    # the muxer refused that jump: keep what it wrote
        return dst


@dataclass(frozen=True)
class Case:
    """One damaged file to make: ``kind`` (a DAMAGE name, or "timestamp_jump"), the seed, a number."""

    kind: str
    seed: str
    number: int

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.seed}-{self.number}"


def cases(count: int, seeds: list[Seed], start: int = 0, timestamp_share: float = 0.05) -> list[Case]:
    """``count`` cases spread round-robin over every kind and seed (timestamp jumps on MP4/MKV seeds,
    about ``timestamp_share`` of them: each needs a remux)."""
    kinds = list(DAMAGE)
    out = []
    remux_every = max(1, round(1 / timestamp_share)) if timestamp_share > 0 else 0
    for i in range(start, start + count):
        if remux_every and i % remux_every == 0:
            seed = ("mp4_moov_end", "mkv", "mov")[(i // remux_every) % 3]
            out.append(Case("timestamp_jump", seed, i))
        else:
            out.append(Case(kinds[i % len(kinds)], seeds[(i // len(kinds)) % len(seeds)].name, i))
    return out


def make_case(case: Case, seeds: dict[str, Seed], folder: Path, seed_dir: Path) -> Path:
    """Write the damaged file of ``case`` into ``folder``; returns its path."""
    seed = seeds[case.seed]
    rng = random.Random(f"{case.kind}/{case.seed}/{case.number}")
    path = folder / f"{case.name}{seed.suffix}"
    if case.kind == "timestamp_jump":
        source = seed_dir / f"jump-src{seed.suffix}"
        if not source.exists():
            source.write_bytes(seed.data)
        return timestamp_jump(source, path, rng)
    damaged = DAMAGE[case.kind](seed.data, rng)
    if rng.random() < 0.25:                         # a second, different damage now and then
        damaged = DAMAGE[rng.choice(list(DAMAGE))](damaged or seed.data, rng)
    path.write_bytes(damaged or b"\0")
    return path


__all__ = ["Case", "DAMAGE", "Seed", "cases", "make_case", "timestamp_jump", "write_seeds"]
