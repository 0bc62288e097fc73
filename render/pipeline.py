"""The frame server: decode, process and encode as concurrent stages with bounded queues.

A decode thread reads frames in order and hands each to a pool of process
threads; the calling thread receives the processed frames in order and encodes
them. At most ``queue_frames`` frames are in flight, so memory stays flat on
long videos. An error in any stage, or Ctrl-C, stops every stage and the
partial output is discarded by the caller's sink.
"""

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from render.io.source import VideoFrame

ProcessFn = Callable[[VideoFrame], np.ndarray]
_END = object()


@dataclass(frozen=True)
class Progress:
    """Where a render stands; ``fps`` and ``eta_s`` are None until measurable."""

    frames_done: int
    frames_total: int
    elapsed_s: float
    fps: float | None
    eta_s: float | None


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _decode_stage(frames: Iterator[VideoFrame], pool: ThreadPoolExecutor, process: ProcessFn,
                  out: queue.Queue, stop: threading.Event) -> None:
    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    try:
        for frame in frames:
            if stop.is_set() or not put((frame, pool.submit(process, frame))):
                return
        put(_END)
    except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
        put(_Failure(exc))


def run_frames(frames: Iterator[VideoFrame], process: ProcessFn,
               write: Callable[[VideoFrame, np.ndarray], None], *, frames_total: int,
               workers: int = 1, queue_frames: int = 8,
               on_progress: Callable[[Progress], None] | None = None) -> int:
    """Process ``frames`` through ``process`` and hand each result, in order, to ``write``.

    ``workers``: process threads (1..64); ``queue_frames``: frames in flight (>= 1).
    Returns the number of frames written. Exceptions from any stage propagate here
    after all stages have stopped.
    """
    stop = threading.Event()
    pending: queue.Queue = queue.Queue(maxsize=max(1, queue_frames))
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, 64)), thread_name_prefix="moodgrade-process")
    decoder = threading.Thread(target=_decode_stage, name="moodgrade-decode",
                               args=(frames, pool, process, pending, stop), daemon=True)
    started = time.monotonic()
    done = 0
    decoder.start()
    try:
        while True:
            item = pending.get()
            if item is _END:
                break
            if isinstance(item, _Failure):
                raise item.exc
            frame, future = item
            write(frame, future.result())
            done += 1
            if on_progress is not None:
                on_progress(progress_at(done, frames_total, time.monotonic() - started))
        return done
    finally:
        stop.set()
        _drain(pending)
        decoder.join()
        _drain(pending)
        pool.shutdown(wait=True, cancel_futures=True)


def _drain(pending: queue.Queue) -> None:
    while True:
        try:
            item = pending.get_nowait()
        except queue.Empty:
            return
        if isinstance(item, tuple) and isinstance(item[1], Future):
            item[1].cancel()


def progress_at(done: int, total: int, elapsed_s: float) -> Progress:
    """Progress after ``done`` of ``total`` items in ``elapsed_s`` seconds."""
    fps = done / elapsed_s if elapsed_s > 0 else None
    eta = (total - done) / fps if fps else None
    return Progress(frames_done=done, frames_total=total, elapsed_s=elapsed_s, fps=fps, eta_s=eta)
