"""The preview server: asyncio front, decode and grade on thread pools.

Every client connection is one asyncio task with its own :class:`Session`.
Decoding, grading and encoding run on a few worker threads, scheduled fairly
between clients (:mod:`render.server.scheduler`: a light client is served next
however many heavy ones scrub, read-ahead waits for idle time, and a request
that cannot start within ``queue_timeout_s`` is answered ``busy``). Everything
the server holds (decoders, cached frames, frames being graded, replies being
written) lives in one budget of ``memory_mb`` (:mod:`render.server.memory`).
Every reply is written through a bounded buffer that must drain within
``write_timeout_s``: a slow or vanished client is dropped without stalling the
others. Until its ``hello``, a connection is a stranger: it must say hello
within ``hello_timeout_s``, and when ``max_strangers`` TCP strangers are
waiting a new one drops the oldest, so silent connections never take the
places of clients (a real client says hello within milliseconds; the Unix
socket is the user's own, by its permissions); a client that then says
nothing for ``idle_timeout_s`` is dropped, and a started message must arrive
whole within ``message_timeout_s``.
"""

import asyncio
import dataclasses
import hmac
import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from render.errors import MoodgradeError
from render.ops.grade_file import parse_assignment
from render.mood_grade import GradeOptions
from render.server import protocol
from render.server.allocator import return_freed_memory, use_mmap_for_large_blocks
from render.server.decoders import DecoderPool
from render.server.frames import encode_frame, resize, scaled_size
from render.server.memory import MemoryBudget
from render.server.protocol import FRAME_FORMATS, PROTOCOL_VERSION, ProtocolError, field
from render.server.roots import Roots
from render.server.scheduler import FairScheduler
from render.server.session import BACKENDS, EMOTIONS, PRESET_NAME, Session, Shared
from render.server.sockets import claim_socket_path, default_socket_path, private_folder, size_send_buffer
from render.server.y4m import CHROMAS, MATRICES, choose_matrix, y4m_header
from render.server.y4m_stream import Y4mStream

TOKEN_ENV = "MOODGRADE_TOKEN"
_FATAL = {"unauthorized", "unsupported_version", "too_large_message"}


@dataclass(frozen=True)
class ServerConfig:
    """How to serve. ``socket_path`` None: the default Unix socket; ``tcp_port`` None: no TCP
    (0: any free port); ``token``: required from TCP clients (None: generated at start)."""

    roots: tuple[str, ...]
    socket_path: str | None = None
    unix: bool = True
    tcp_port: int | None = None
    token: str | None = None
    grade: GradeOptions = GradeOptions()   # each session's settings until its first ``set``
    memory_mb: int = 1024               # everything the server holds, all sessions together
    prefetch_frames: int = 8
    workers: int = dataclass_field(default_factory=lambda: os.cpu_count() or 2)
    max_clients: int = 64
    max_strangers: int = 16             # TCP connections that have not said hello yet (the oldest dropped)
    hello_timeout_s: float = 5.0
    queue_timeout_s: float = 5.0
    per_client_jobs: int = 8            # a client's requests queued or running, y4m streams included
    idle_timeout_s: float = 300.0
    message_timeout_s: float = 10.0
    write_timeout_s: float = 10.0
    write_buffer_bytes: int = 4 << 20
    y4m_accept_timeout_s: float = 30.0


class _Connection:
    """One client: its writer, its session, and its pending y4m listeners."""

    def __init__(self, server: "PreviewServer", writer: asyncio.StreamWriter, transport: str):
        self.server, self.writer, self.transport = server, writer, transport
        self.session: Session | None = None
        self.authorised = False

    async def send(self, header: dict, payload: bytes | None = None) -> None:
        header = {**header, "payload_bytes": len(payload) if payload else 0}
        self.writer.write(protocol.pack_json(header))
        if payload:
            self.writer.write(protocol.LENGTH.pack(len(payload)))
            self.writer.write(payload)
        await asyncio.wait_for(self.writer.drain(), self.server.config.write_timeout_s)

    def require_session(self) -> Session:
        if self.session is None:
            raise ProtocolError("no_clip", "open a clip first")
        return self.session

    def close_session(self) -> None:
        if self.session is not None:
            self.session.release()
            self.session = None


class PreviewServer:
    """Serves preview sessions; use :func:`run_server` (blocking) or :class:`ServerThread`."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.roots = Roots(config.roots)
        self.token = config.token if config.token is not None else secrets.token_urlsafe(24)
        workers = max(1, config.workers)
        self.budget = MemoryBudget(config.memory_mb << 20)
        self.decoders = DecoderPool(self.budget, workers + 1)
        self.scheduler = FairScheduler(workers, config.per_client_jobs, config.queue_timeout_s)
        self.shared = Shared(self.budget, self.decoders, self.scheduler, config.prefetch_frames)
        self._servers: list[asyncio.AbstractServer] = []
        self._tasks: set[asyncio.Task] = set()
        self._connections: set[_Connection] = set()    # clients that said hello
        self._strangers: dict[_Connection, None] = {}  # connections that have not yet, oldest first
        self.y4m_waiting: set[Y4mStream] = set()       # y4m streams whose reader has not come yet
        self.socket_path: Path | None = None
        self.tcp_port: int | None = None
        self._stopped: asyncio.Event | None = None

    # ------------------------------------------------------------ lifetime
    async def start(self) -> list[str]:
        """Start listening; returns the addresses (``unix:PATH``, ``tcp://127.0.0.1:PORT``)."""
        self._stopped = asyncio.Event()
        use_mmap_for_large_blocks()
        self._tasks.add(asyncio.get_running_loop().create_task(self._trim_memory()))
        addresses = []
        if self.config.unix:
            path = Path(self.config.socket_path) if self.config.socket_path else default_socket_path()
            private_folder(path.parent)
            claim_socket_path(path)
            old = os.umask(0o177)
            try:
                server = await asyncio.start_unix_server(lambda r, w: self._accept(r, w, "unix"), str(path))
            finally:
                os.umask(old)
            os.chmod(path, 0o600)
            self.socket_path = path
            self._servers.append(server)
            addresses.append(f"unix:{path}")
        if self.config.tcp_port is not None:
            server = await asyncio.start_server(lambda r, w: self._accept(r, w, "tcp"), "127.0.0.1",
                                                self.config.tcp_port)
            self.tcp_port = server.sockets[0].getsockname()[1]
            self._servers.append(server)
            addresses.append(f"tcp://127.0.0.1:{self.tcp_port}")
        if not addresses:
            raise MoodgradeError("nothing to listen on: enable the Unix socket or give a TCP port")
        return addresses

    def stop(self) -> None:
        """Ask the server to shut down (from the event loop's thread)."""
        if self._stopped is not None:
            self._stopped.set()

    async def serve_until_stopped(self) -> None:
        await self._stopped.wait()
        await self.shutdown()

    async def shutdown(self) -> None:
        """Stop listening, drop every client, close every session, remove the socket file."""
        for server in self._servers:
            server.close()
        for conn in [*self._connections, *self._strangers]:
            conn.writer.close()
        for stream in list(self.y4m_waiting):
            stream.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self.socket_path is not None:
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
        await asyncio.get_running_loop().run_in_executor(None, self.scheduler.shutdown)
        self.decoders.close()

    async def _trim_memory(self, period_s: float = 5.0) -> None:
        """Every ``period_s``, give memory freed since back to the system (off the event loop)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period_s)
            await loop.run_in_executor(None, return_freed_memory)

    def track_current_task(self) -> None:
        """Remember the running client task, so that shutdown can cancel it."""
        task = asyncio.current_task()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run_for(self, client, fn, *args):
        """``fn(*args)`` on a worker thread, scheduled fairly as work for ``client``."""
        return await asyncio.wrap_future(self.scheduler.submit(client, fn, *args))

    # ------------------------------------------------------------- clients
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, transport: str) -> None:
        self.track_current_task()
        size_send_buffer(writer, self.config.write_buffer_bytes)
        conn = _Connection(self, writer, transport)
        tcp_strangers = [c for c in self._strangers if c.transport == "tcp"]
        if transport == "tcp" and len(tcp_strangers) >= self.config.max_strangers:
            del self._strangers[tcp_strangers[0]]                # the oldest silent one makes room
            tcp_strangers[0].writer.transport.abort()
        self._strangers[conn] = None
        try:
            await self._serve_client(reader, conn)
        except ProtocolError as exc:        # fatal: answer, then drop the client
            await self._try_send(conn, {"ok": False, "error": {"code": exc.code, "message": str(exc)}})
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, OSError, asyncio.CancelledError):
            writer.transport.abort()        # gone, stalled, or shutting down: drop it and its unsent bytes
        finally:
            self._strangers.pop(conn, None)
            self._connections.discard(conn)
            conn.close_session()
            self.scheduler.forget(conn)
            writer.close()

    async def _try_send(self, conn: _Connection, header: dict) -> None:
        try:
            await conn.send(header)
        except (ConnectionError, TimeoutError, OSError):
            pass

    async def _read_message(self, reader: asyncio.StreamReader, idle_timeout_s: float) -> bytes:
        head = await asyncio.wait_for(reader.readexactly(4), idle_timeout_s)
        (length,) = protocol.LENGTH.unpack(head)
        if length > protocol.MAX_REQUEST_BYTES:
            raise ProtocolError("too_large_message",
                                f"a request may have at most {protocol.MAX_REQUEST_BYTES} bytes, not {length}")
        return await asyncio.wait_for(reader.readexactly(length), self.config.message_timeout_s)

    async def _serve_client(self, reader: asyncio.StreamReader, conn: _Connection) -> None:
        while True:
            if conn.authorised:
                body = await self._read_message(reader, self.config.idle_timeout_s)
            else:               # the whole hello within hello_timeout_s: strangers cannot linger
                body = await asyncio.wait_for(self._read_message(reader, self.config.hello_timeout_s),
                                              self.config.hello_timeout_s)
            request_id, request = None, {}
            try:
                request = protocol.parse_request(body)
                request_id = request.get("id")
                if not isinstance(request_id, (int, str)) or isinstance(request_id, bool):
                    request_id = None
                if not conn.authorised and request["op"] != "hello":
                    raise ProtocolError("unauthorized", "the first request must be 'hello'")
                handler = self._handlers.get(request["op"])
                if handler is None:
                    raise ProtocolError("unknown_op", f"unknown op {request['op']!r}")
                if await handler(self, conn, request, request_id) == "close":
                    return
            except ProtocolError as exc:
                if exc.code in _FATAL or not conn.authorised:
                    raise
                await conn.send(_error(request_id, exc.code, str(exc)))
            except MoodgradeError as exc:
                await conn.send(_error(request_id, "media", str(exc)))
            except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
                raise                       # the client is gone or stalled: handled by the caller
            except Exception as exc:  # noqa: BLE001 - the server's boundary: answer, log one line, keep serving
                print(f"moodgrade serve: internal error on {request.get('op')!r}: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
                await conn.send(_error(request_id, "internal", f"{type(exc).__name__}: {exc}"))

    # ------------------------------------------------------------------ ops
    async def _hello(self, conn: _Connection, request: dict, rid) -> None:
        if conn.authorised:
            raise ProtocolError("bad_request", "'hello' comes once, first")
        version = request.get("version")
        if version != PROTOCOL_VERSION:
            raise ProtocolError("unsupported_version",
                                f"this server speaks protocol version {PROTOCOL_VERSION}, not {version!r}")
        if conn.transport == "tcp":
            token = request.get("token")
            if not isinstance(token, str) or not hmac.compare_digest(token.encode(), self.token.encode()):
                raise ProtocolError("unauthorized", "a TCP client must send the server's token")
        if len(self._connections) >= self.config.max_clients:
            raise ProtocolError("busy", f"the server already has {self.config.max_clients} clients")
        self._strangers.pop(conn, None)
        self._connections.add(conn)
        conn.authorised = True
        await conn.send({"ok": True, "id": rid, "op": "hello", "server": "moodgrade", "version": PROTOCOL_VERSION,
                         "limits": {"request_bytes": protocol.MAX_REQUEST_BYTES,
                                    "frame_bytes": protocol.MAX_FRAME_BYTES,
                                    "idle_timeout_s": self.config.idle_timeout_s},
                         "emotions": list(EMOTIONS)})

    async def _open(self, conn: _Connection, request: dict, rid) -> None:
        path = self.roots.resolve(request.get("path"))
        analyze = field(request, "analyze", bool, False)
        session = await self.run_for(conn, Session, path, self.config.grade, self.shared)
        conn.close_session()
        conn.session = session
        if analyze:
            await self.run_for(conn, session.load_timeline)
        info = session.info.to_dict()
        info["path"] = str(path)
        await conn.send({"ok": True, "id": rid, "op": "open", "info": info, "mood": session.mood_summary(),
                         "settings": session.settings()})

    async def _frame(self, conn: _Connection, request: dict, rid) -> None:
        session = conn.require_session()
        n = field(request, "n", int, ..., low=0)
        options = _frame_options(request)
        frame, payload, reservation, size = await self.run_for(conn, _render_frame, session, n, *options)
        with reservation:
            session.prefetch_after(n)
            await conn.send(_frame_header(rid, "frame", session, frame, options[0], *size), payload)

    async def _stream(self, conn: _Connection, request: dict, rid) -> None:
        session = conn.require_session()
        start, stop = _frame_range(request, session.frame_count)
        options = _frame_options(request)
        for n in range(start, stop):
            frame, payload, reservation, size = await self.run_for(conn, _render_frame, session, n, *options)
            with reservation:
                session.prefetch_after(n)
                await conn.send(_frame_header(rid, "stream", session, frame, options[0], *size), payload)
        await conn.send({"ok": True, "id": rid, "op": "stream", "done": True, "frames": stop - start})

    async def _timeline(self, conn: _Connection, request: dict, rid) -> None:
        session = conn.require_session()
        timeline = await self.run_for(conn, session.load_timeline)
        reply = {"ok": True, "id": rid, "op": "timeline", "timeline": timeline.to_dict(),
                 "summary": session.mood_summary()}
        if len(protocol.pack_json(reply)) > protocol.MAX_REPLY_BYTES:
            raise ProtocolError("too_large", "the timeline is larger than a reply may be")
        await conn.send(reply)

    async def _set(self, conn: _Connection, request: dict, rid) -> None:
        session = conn.require_session()
        changes = {}
        if "preset" in request:
            preset = request["preset"]
            if preset is not None and (not isinstance(preset, str) or not PRESET_NAME.fullmatch(preset)):
                raise ProtocolError("bad_request", "field 'preset' must be a preset name or null")
            changes["preset"] = preset
        if "intensity" in request:
            changes["intensity"] = field(request, "intensity", float, ..., low=0.0, high=1.0)
        if "mood" in request:
            mood = request["mood"] or "auto"
            if mood != "auto" and mood not in EMOTIONS:
                raise ProtocolError("bad_request", f"field 'mood' must be auto, null or one of {', '.join(EMOTIONS)}")
            changes["mood"] = mood
        if "ops" in request:
            ops = request["ops"] or []
            if not isinstance(ops, list) or len(ops) > 64 or not all(isinstance(a, str) and len(a) < 256 for a in ops):
                raise ProtocolError("bad_request", "field 'ops' must be a list of OP.KEY=VALUE strings")
            for assignment in ops:          # the syntax here; values are checked when the grade is built
                try:
                    parse_assignment(assignment)
                except MoodgradeError as exc:
                    raise ProtocolError("bad_request", str(exc)) from None
            changes["assignments"] = tuple(ops)
        for name in ("lut", "cdl", "grade_file"):           # files, confined to the roots like clips
            if name in request:
                changes[name] = None if request[name] is None else str(self.roots.resolve(request[name]))
        if "cdl_id" in request:
            changes["cdl_id"] = field(request, "cdl_id", str, None)
        if "lut_interpolation" in request:
            changes["lut_interpolation"] = field(request, "lut_interpolation", str, ...,
                                                 choices=("tetrahedral", "trilinear"))
        if "backend" in request:
            backend = field(request, "backend", str, ..., choices=BACKENDS)
            changes["backend"] = None if backend == "auto" else backend
        options = dataclasses.replace(session.options, **changes)
        settings = await self.run_for(conn, session.configure, options)
        await conn.send({"ok": True, "id": rid, "op": "set", "settings": settings})

    async def _y4m(self, conn: _Connection, request: dict, rid) -> None:
        session = conn.require_session()
        start, stop = _frame_range(request, session.frame_count)
        chroma = field(request, "chroma", str, "444", choices=CHROMAS)
        video = session.info.video
        matrix = choose_matrix(field(request, "matrix", str, "auto", choices=MATRICES), video.height)
        transport = field(request, "transport", str, "tcp", choices=("tcp", "unix"))
        if sum(stream.conn is conn for stream in self.y4m_waiting) >= 4:
            raise ProtocolError("busy", "at most 4 y4m streams may wait for their reader")
        deep = session.clip.rgb_format != "rgb24"
        header = y4m_header(video.width, video.height, video.frame_rate, chroma, deep)
        stream = Y4mStream(self, session.acquire(), range(start, stop), header, matrix, chroma)
        url = await stream.listen(conn, transport)
        await conn.send({"ok": True, "id": rid, "op": "y4m", "url": url, "frames": stop - start,
                         "width": video.width, "height": video.height, "chroma": chroma, "matrix": matrix,
                         "frame_rate": str(video.frame_rate)})

    async def _close(self, conn: _Connection, request: dict, rid) -> str:
        conn.close_session()
        await conn.send({"ok": True, "id": rid, "op": "close"})
        return "close"

    _handlers = {"hello": _hello, "open": _open, "frame": _frame, "stream": _stream, "timeline": _timeline,
                 "set": _set, "y4m": _y4m, "close": _close}


def _error(rid, code: str, message: str) -> dict:
    return {"ok": False, "id": rid, "error": {"code": code, "message": message}}


def _frame_options(request: dict) -> tuple:
    return (field(request, "format", str, "rgb", choices=FRAME_FORMATS),
            field(request, "scale", float, None, low=1e-3, high=1.0),
            field(request, "max_width", int, None, low=1, high=65536),
            field(request, "quality", int, 90, low=1, high=100))


def _frame_range(request: dict, count: int) -> tuple[int, int]:
    start = field(request, "start", int, 0, low=0, high=count - 1)
    stop = field(request, "stop", int, count, low=start + 1, high=count)
    return start, stop


def _render_frame(session: Session, n: int, fmt: str, scale, max_width, quality):
    """(graded frame, payload, its reservation of the memory budget (release it once sent),
    (width, height)) for one frame request (runs on a worker)."""
    video = session.info.video
    size = scaled_size(video.width, video.height, scale, max_width)

    def encode(rgb):
        payload = encode_frame(resize(rgb, size), fmt, quality)
        if len(payload) > protocol.MAX_FRAME_BYTES:
            raise ProtocolError("too_large", f"the frame would have {len(payload)} bytes; ask for a smaller scale")
        return payload

    return (*session.encoded(n, encode), size)


def _frame_header(rid, op: str, session: Session, frame, fmt: str, width: int, height: int) -> dict:
    return {"ok": True, "id": rid, "op": op, "n": frame.index, "pts": frame.pts, "time_s": round(frame.time_s, 6),
            "width": width, "height": height, "format": fmt, "dtype": str(frame.rgb.dtype),
            "generation": session.settings()["generation"], "mood": session.mood_at(frame.index)}


def run_server(config: ServerConfig, on_ready=None) -> None:
    """Serve until SIGTERM or SIGINT; ``on_ready(server, addresses)`` is called once listening."""

    async def main() -> None:
        server = PreviewServer(config)
        addresses = await server.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.stop)
        if on_ready is not None:
            on_ready(server, addresses)
        await server.serve_until_stopped()

    asyncio.run(main())


class ServerThread:
    """A server on a background thread (for tests, benchmarks and embedding); ``with`` stops it."""

    def __init__(self, config: ServerConfig):
        self.server = PreviewServer(config)
        self.addresses: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="moodgrade-server", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self.addresses = self._loop.run_until_complete(self.server.start())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_until_complete(self.server.serve_until_stopped())
        self._loop.close()

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self.server.stop)
        self._thread.join(timeout=30)


def print_ready(server: PreviewServer, addresses: list[str], token_shown: bool) -> None:
    """The start-up lines ``moodgrade serve`` prints (clients and tests wait for them)."""
    for address in addresses:
        print(f"moodgrade serve: listening on {address}", flush=True)
    if server.tcp_port is not None and token_shown:
        print(f"moodgrade serve: token {server.token}", flush=True)
    print(f"moodgrade serve: roots {', '.join(map(str, server.roots.folders))}", file=sys.stderr, flush=True)
    print("moodgrade serve: ready", flush=True)
