"""The server's memory budget and fair service: bounded, given back, and light clients served first."""

import os
import random
import threading
import time

import pytest

from render.client import PreviewClient, PreviewError
from render.io.synthetic import ClipSpec, write_clip
from render.server.memory import MemoryBudget
from render.server.protocol import ProtocolError
from render.server.scheduler import FairScheduler
from render.server.server import ServerConfig, ServerThread
from tests.server.conftest import ServerProcess


def test_a_thousand_sessions_give_back_what_they_took(media_root, socket_dir):
    server = ServerProcess(["--root", str(media_root), "--socket", str(socket_dir / "p.sock"), "--memory-mb", "128"])
    try:
        def sessions(count: int) -> None:
            for k in range(count):
                with PreviewClient.connect(server.addresses[0]) as client:
                    client.open("clip.mp4")
                    client.set(ops=[f"exposure.exposure_ev={k % 7 / 10}"])
                    client.frame(k % 30, format="jpeg", max_width=160)
        sessions(100)                    # warm-up: caches filled, kernels built
        before = server.rss_kib()
        sessions(1000)
        after = server.rss_kib()
        assert after - before < 20 * 1024, f"1000 sessions grew the server by {after - before} KiB"
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.stderr


def test_the_budget_holds_while_clients_scrub_and_is_given_back(media_root, socket_dir):
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), memory_mb=16, workers=2)
    with ServerThread(config) as running:
        budget, decoders = running.server.budget, running.server.decoders
        highest, stop = [0], threading.Event()

        def watch() -> None:
            while not stop.wait(0.002):
                highest[0] = max(highest[0], budget.used_bytes)

        def scrub(k: int) -> None:
            rng = random.Random(k)
            with PreviewClient.connect(running.addresses[0]) as client:
                client.open("clip.mp4")
                client.set(ops=[f"saturation.saturation={0.5 + k % 3 / 4}"])
                for _ in range(20):
                    try:
                        client.frame(rng.randrange(30), scale=rng.choice([None, 0.5]))
                    except PreviewError as exc:
                        assert exc.code == "busy"

        watcher = threading.Thread(target=watch)
        watcher.start()
        threads = [threading.Thread(target=scrub, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        stop.set()
        watcher.join()
        assert highest[0] <= budget.total_bytes
        assert budget.frame_bytes > 0                                 # frames stay cached for the next client
        # every reservation came back: what stays reserved is the backend's buffers and the idle decoders
        idle = sum(r.nbytes for clip in decoders._clips.values() for _, r in clip.idle)
        assert budget.reserved_bytes == idle + sum(budget._standing.values())


def test_a_budget_too_small_for_the_clip_answers_busy(media_root, socket_dir):
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), memory_mb=1)
    with ServerThread(config) as running, PreviewClient.connect(running.addresses[0]) as client:
        with pytest.raises(PreviewError) as error:
            client.open("clip.mp4")
        assert error.value.code == "busy" and "memory budget" in str(error.value)
        assert "\n" not in str(error.value)


def test_a_light_client_runs_before_the_queues_of_heavy_ones():
    scheduler = FairScheduler(workers=1, per_client_jobs=8, queue_timeout_s=30)
    started: list[str] = []
    gate = threading.Event()
    try:
        def job(name: str) -> None:
            started.append(name)
            gate.wait(5) if name == "block" else time.sleep(0.01)

        first = scheduler.submit("heavy-0", job, "block")          # holds the only worker
        while not started:
            time.sleep(0.001)
        futures = [scheduler.submit(f"heavy-{c}", job, f"heavy-{c}-{k}") for k in range(8) for c in range(1, 6)]
        light = scheduler.submit("light", job, "light")
        gate.set()
        light.result(10)
        for future in [first, *futures]:
            future.result(10)
        assert started.index("light") <= 6        # after at most one job of each of the five heavy clients
    finally:
        scheduler.shutdown()


def test_an_overloaded_scheduler_answers_busy_quickly():
    scheduler = FairScheduler(workers=1, per_client_jobs=2, queue_timeout_s=0.05)
    try:
        slow = scheduler.submit("a", time.sleep, 0.3)
        waiting = scheduler.submit("b", time.sleep, 0)
        scheduler.submit("a", time.sleep, 0)
        with pytest.raises(ProtocolError) as too_many:
            scheduler.submit("a", time.sleep, 0)             # a third request of one client at a time
        assert too_many.value.code == "busy"
        slow.result(5)
        with pytest.raises(ProtocolError) as waited:
            waiting.result(5)                                 # it waited past queue_timeout_s
        assert waited.value.code == "busy"
    finally:
        scheduler.shutdown()


def test_a_file_without_video_is_refused_and_gives_its_decoder_place_back(media_root, socket_dir, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    write_clip(root / "sound.mka", ClipSpec(video=False, frames=10))
    os.link(media_root / "clip.mp4", root / "clip.mp4")
    config = ServerConfig(roots=(str(root),), socket_path=str(socket_dir / "p.sock"), workers=1)   # 2 decoders
    with ServerThread(config) as running, PreviewClient.connect(running.addresses[0]) as client:
        for _ in range(3):
            with pytest.raises(PreviewError) as error:
                client.open("sound.mka")
            assert error.value.code == "media" and "has no video stream" in str(error.value)
        client.open("clip.mp4")
        assert client.frame(4, format="jpeg", max_width=64)[0]["n"] == 4
        assert running.server.budget.reserved_bytes < running.server.budget.total_bytes


def test_standing_and_ordinary_reservations_never_overrun_the_budget():
    budget = MemoryBudget(1000)
    with budget.reserve(700, "a reply"):
        with pytest.raises(ProtocolError) as refused:
            budget.stand("grading buffers", 400)
        assert refused.value.code == "busy" and budget.used_bytes == 700
    budget.stand("grading buffers", 400)
    budget.stand("grading buffers", 300)             # never lowered
    assert budget.reserved_bytes == 400
    with pytest.raises(ProtocolError):
        budget.reserve(601, "a frame")
