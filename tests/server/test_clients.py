"""Many clients at once: each gets the right frames, and a stalled client stalls nobody else."""

import random
import socket
import threading
import time

import numpy as np
import pytest

from render.client import PreviewClient, PreviewError
from render.io.source import open_source
from render.server.protocol import pack_json
from render.server.server import ServerConfig, ServerThread

CLIENTS = 50
REQUESTS = 10


def test_fifty_clients_scrub_at_once(server, media_root):
    with open_source(media_root / "clip.mp4") as source:
        reference = [f.rgb for f in source.frames()]
    failures: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def scrub(k: int) -> None:
        rng = random.Random(k)
        address, token = (server.addresses[1], "secret") if k % 5 == 0 else (server.addresses[0], None)
        try:
            with PreviewClient.connect(address, token=token, timeout_s=60) as client:
                client.open("clip.mp4")
                for _ in range(REQUESTS):
                    n = rng.randrange(30)
                    start = time.perf_counter()
                    header, rgb = client.frame(n, scale=rng.choice([None, 0.5]))
                    with lock:
                        latencies.append(time.perf_counter() - start)
                    want = reference[n] if header["width"] == 320 else None
                    if header["n"] != n or (want is not None and not np.array_equal(rgb, want)):
                        failures.append(f"client {k}: wrong frame for {n}")
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            failures.append(f"client {k}: {type(exc).__name__}: {exc}")

    started = time.monotonic()
    threads = [threading.Thread(target=scrub, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "clients still running after 120 s"
    assert not failures, failures[:5]
    assert len(latencies) == CLIENTS * REQUESTS
    assert time.monotonic() - started < 120


def test_a_stalled_client_does_not_stall_others(media_root, socket_dir):
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), workers=2,
                          write_timeout_s=2.0, write_buffer_bytes=64 << 10, memory_mb=256)
    with ServerThread(config) as server:
        stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(server.addresses[0].removeprefix("unix:"))
        for message in ({"op": "hello", "version": 1}, {"op": "open", "path": "clip.mp4"},
                        {"op": "stream", "start": 0, "stop": 30}):
            stalled.sendall(pack_json(message))          # ... and never reads a byte
        with PreviewClient.connect(server.addresses[0], timeout_s=10) as client:
            client.open("clip.mp4")
            for n in range(0, 30, 3):
                start = time.perf_counter()
                client.frame(n)
                # well under write_timeout_s: had the stall blocked the server, this would wait it out
                assert time.perf_counter() - start < 1.0, "another client's stall delayed this one"
        # The stalled client was dropped once its replies did not drain for write_timeout_s:
        # reading now finds the end of the connection long before 30 frames.
        time.sleep(2 * config.write_timeout_s)      # reading earlier would un-stall it
        stalled.settimeout(10)
        received = 0
        while chunk := stalled.recv(1 << 16):
            received += len(chunk)
        stalled.close()
        assert received < 30 * 320 * 180 * 3


def test_clients_beyond_the_limit_are_told_busy(media_root, socket_dir):
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), max_clients=2)
    with ServerThread(config) as server:
        first, second = (PreviewClient.connect(server.addresses[0]) for _ in range(2))
        with pytest.raises(PreviewError) as error:
            PreviewClient.connect(server.addresses[0])
        assert error.value.code == "busy"
        first.close()
        time.sleep(0.2)
        with PreviewClient.connect(server.addresses[0]) as third:     # a freed place is taken again
            assert third.open("clip.mp4")["ok"]
        second.close()
