"""1,000 malformed and hostile messages: each is answered with an error or its client dropped;
the server stays up, keeps serving, and its memory stays bounded."""

import json
import os
import random
import socket
import struct
import time

from render.client import PreviewClient
from render.server.protocol import pack, pack_json
from render.server.server import ServerConfig, ServerThread
from tests.server.conftest import ServerProcess

MESSAGES = 1000
RSS_GROWTH_LIMIT_KIB = 40 * 1024      # after warm-up (caches full), 1,000 attacks may add at most 40 MiB


class Raw:
    """A bare protocol connection that sends whatever it is told to."""

    def __init__(self, address: str, hello: bool = True, token: str | None = None):
        if address.startswith("tcp://"):
            self.sock = socket.create_connection(("127.0.0.1", int(address.rsplit(":", 1)[1])), timeout=20)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(20)
            self.sock.connect(address.removeprefix("unix:"))
        if hello:
            self.sock.sendall(pack_json({"op": "hello", "version": 1, "token": token}))
            assert self.reply()["ok"]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _exact(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def reply(self) -> dict | None:
        """The next reply (its payload read and dropped), or None when the server closed the connection."""
        head = self._exact(4)
        if head is None:
            return None
        header = json.loads(self._exact(struct.unpack(">I", head)[0]))
        if header.get("payload_bytes"):
            assert self._exact(4 + header["payload_bytes"]) is not None
        return header

    def closed(self) -> bool:
        return self._exact(1) is None

    def close(self) -> None:
        self.sock.close()


def dropped_already(raw: Raw) -> bool:
    """True when the server has closed ``raw`` (looked at without waiting for it)."""
    raw.sock.settimeout(0.05)
    try:
        return raw.sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def answered_with_error(raw: Raw, code: str | None = None) -> bool:
    reply = raw.reply()
    return reply is not None and reply["ok"] is False and (code is None or reply["error"]["code"] == code)


def bad_bodies(rng: random.Random, root) -> list[tuple[bytes, str]]:
    """Messages a connected client may send that must each get an error reply (body, expected code)."""
    req = lambda **m: json.dumps(m).encode()  # noqa: E731
    outside = [("/etc/passwd", "forbidden"), ("../clip.mp4", "forbidden"), ("a/../../etc/hosts", "forbidden"),
               (str(root.parent), "forbidden"), ("escape-file", "forbidden"), ("escape-dir/passwd", "forbidden"),
               ("clip.mp4\0.txt", "bad_request"), ("x" * 5000, "bad_request"), ("", "bad_request"),
               ("no-such.mp4", "not_found"), (str(root), "not_found"), ("fifo", "not_found"),
               ("notes.txt", "media"), ("empty.mp4", "media"), ("truncated.mp4", "media")]
    bodies = [
        (b"{not json", "bad_request"), (b"\xff\xfe\x00garbage", "bad_request"), (b"", "bad_request"),
        (b"[1, 2, 3]", "bad_request"), (b'"frame"', "bad_request"), (b"42", "bad_request"), (b"null", "bad_request"),
        (b'{"op": 7}', "bad_request"), (b'{"n": 1}', "bad_request"), (b"[" * 20000 + b"]" * 20000, "bad_request"),
        (b'{"op": "frame", "n": NaN}', "bad_request"), (b'{"op": "set", "intensity": Infinity}', "bad_request"),
        (req(op="".join(rng.choice("abcxyz_") for _ in range(rng.randrange(1, 30)))), "unknown_op"),
        (req(op="frame", n="12"), "bad_request"), (req(op="frame", n=-4), "bad_request"),
        (req(op="frame", n=10 ** 30), "out_of_range"), (req(op="frame", n=3.5), "bad_request"),
        (req(op="frame", n=True), "bad_request"), (req(op="frame", n=1, format="gif"), "bad_request"),
        (req(op="frame", n=1, scale=0), "bad_request"), (req(op="frame", n=1, scale=7), "bad_request"),
        (req(op="frame", n=1, quality=1000), "bad_request"), (req(op="frame", n=1, max_width=-1), "bad_request"),
        (req(op="stream", start=20, stop=10), "bad_request"), (req(op="stream", start=0, stop=10 ** 9), "bad_request"),
        (req(op="y4m", chroma="411"), "bad_request"), (req(op="y4m", transport="udp"), "bad_request"),
        (req(op="set", mood="ecstatic"), "bad_request"), (req(op="set", preset=["x"]), "bad_request"),
        (req(op="set", intensity=-0.1), "bad_request"), (req(op="set", ops="exposure=99"), "bad_request"),
        (req(op="set", ops=["exposure.exposure_ev=99"]), "grade"), (req(op="set", preset="no-such-look"), "grade"),
        (req(op="set", lut="/etc/passwd"), "forbidden"), (req(op="set", cdl="../x.cdl"), "forbidden"),
        (req(op="set", grade_file="escape-file"), "forbidden"), (req(op="set", ops=["x"] * 1000), "bad_request"),
        (req(op="open", path=12), "bad_request"), (req(op="open", path=["clip.mp4"]), "bad_request"),
        (req(op="hello", version=1), None),
    ]
    bodies += [(req(op="open", path=p), code) for p, code in outside]
    return bodies


def test_a_thousand_hostile_messages(media_root, socket_dir, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    os.link(media_root / "clip.mp4", root / "clip.mp4")
    os.symlink("/etc/hosts", root / "escape-file")
    os.symlink("/etc", root / "escape-dir")
    os.mkfifo(root / "fifo")                                  # opening it would block a careless server
    (root / "notes.txt").write_text("not a video\n")
    (root / "empty.mp4").write_bytes(b"")
    (root / "truncated.mp4").write_bytes((media_root / "clip.mp4").read_bytes()[:3000])
    server = ServerProcess(["--root", str(root), "--socket", str(socket_dir / "p.sock"), "--tcp", "0",
                            "--memory-mb", "256", "--prefetch", "4"])
    unix, tcp = server.addresses
    rng = random.Random(7)
    sent = answered = dropped = 0
    started = time.monotonic()

    def attack_round(count: int) -> None:
        nonlocal sent, answered, dropped
        bodies = bad_bodies(rng, root)
        raw = Raw(unix)
        raw.send(pack_json({"op": "open", "path": "clip.mp4"}))
        assert raw.reply()["ok"]
        for _ in range(count):
            kind = rng.random()
            sent += 1
            if kind < 0.70:                                   # answered on a live connection
                body, code = rng.choice(bodies)
                raw.send(pack(body))
                assert answered_with_error(raw, code), body[:60]
                answered += 1
                continue
            if kind < 0.76:                                   # a huge length: refused and dropped
                victim = Raw(unix)
                victim.send(struct.pack(">I", rng.choice([2 ** 32 - 1, 2 ** 31, 65 * 1024 * 1024, 1 << 20])))
                assert answered_with_error(victim, "too_large_message") and victim.closed()
            elif kind < 0.82:                                 # half a message, then gone
                victim = Raw(unix, hello=rng.random() < 0.5)
                victim.send(struct.pack(">I", 100) + b'{"op": "fra' if rng.random() < 0.5 else b"\x00\x00")
            elif kind < 0.88:                                 # asks for frames and vanishes mid-frame
                victim = Raw(unix)
                victim.send(pack_json({"op": "open", "path": "clip.mp4"}))
                victim.reply()
                victim.send(pack_json({"op": rng.choice(["frame", "stream"]), "n": rng.randrange(30), "start": 0}))
                victim.sock.recv(rng.randrange(1, 5000))
            elif kind < 0.94:                                 # TCP without (or with a wrong) token
                victim = Raw(tcp, hello=False)
                victim.send(pack_json({"op": "hello", "version": 1, **rng.choice([{}, {"token": "guess"},
                                                                                 {"token": 123}])}))
                assert answered_with_error(victim, "unauthorized") and victim.closed()
            else:                                             # skips hello, or a version from the future
                victim = Raw(rng.choice([unix, tcp]), hello=False)
                victim.send(pack_json(rng.choice([{"op": "open", "path": "clip.mp4"}, {"op": "hello", "version": 99},
                                                  {"op": "frame", "n": 0}])))
                assert answered_with_error(victim) and victim.closed()
            victim.close()
            dropped += 1
        raw.send(pack_json({"op": "frame", "n": rng.randrange(30)}))   # the attacker's session still works
        header = raw.reply()
        assert header["ok"] and header["payload_bytes"] == 320 * 180 * 3
        raw.close()

    try:
        attack_round(100)                                     # warm-up: caches and pools reach their size
        rss_before = server.rss_kib()
        while sent < MESSAGES and time.monotonic() - started < 120:
            attack_round(50)
        rss_after = server.rss_kib()
        assert sent >= MESSAGES, f"only {sent} messages in 120 s"
        assert server.proc.poll() is None, "the server died"
        with PreviewClient.connect(unix) as client:           # and still serves the right frames
            client.open("clip.mp4")
            header, rgb = client.frame(12)
            assert header["n"] == 12 and rgb.shape == (180, 320, 3) and rgb.std() > 10
        assert rss_after - rss_before < RSS_GROWTH_LIMIT_KIB, f"RSS grew by {rss_after - rss_before} KiB"
        print(f"{sent} hostile messages: {answered} answered, {dropped} clients dropped; "
              f"RSS {rss_before} -> {rss_after} KiB")
    finally:
        assert server.stop() == 0
        assert "Traceback" not in server.stderr and "internal error" not in server.stderr, server.stderr[-2000:]


def test_silent_and_half_sent_clients_time_out(media_root, socket_dir):
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), tcp_port=0,
                          idle_timeout_s=1.0, message_timeout_s=0.5, hello_timeout_s=0.5)
    with ServerThread(config) as server:
        silent, half = Raw(server.addresses[0]), Raw(server.addresses[0])
        stranger = Raw(server.addresses[1], hello=False)          # never says hello
        half.send(struct.pack(">I", 50) + b'{"op"')
        started = time.monotonic()
        assert stranger.closed() and half.closed()
        assert time.monotonic() - started < 0.9                  # hello/message timeouts, not idle_timeout_s
        assert silent.closed()
        assert time.monotonic() - started < 5
        with PreviewClient.connect(server.addresses[0]) as client:
            assert client.open("clip.mp4")["ok"]


def test_silent_tcp_connections_never_take_the_places_of_clients(media_root, socket_dir):
    """64 connections without the token, renewed every round: the editor on the Unix socket and a TCP
    client with the token are still served (the cap on clients counts only those that said hello)."""
    config = ServerConfig(roots=(str(media_root),), socket_path=str(socket_dir / "p.sock"), tcp_port=0,
                          token="secret", max_clients=8, max_strangers=16)
    with ServerThread(config) as server:
        unix, tcp = server.addresses
        for _ in range(2):
            silent = [Raw(tcp, hello=False) for _ in range(64)]
            with PreviewClient.connect(unix) as editor, PreviewClient.connect(tcp, token="secret") as viewer:
                assert editor.open("clip.mp4")["ok"] and viewer.open("clip.mp4")["ok"]
                assert editor.frame(3, format="jpeg", max_width=64)[0]["n"] == 3
            assert sum(map(dropped_already, silent)) >= 64 - 16       # dropped to make room for newer ones
            for raw in silent:
                raw.sock.close()
