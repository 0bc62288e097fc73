"""A y4m stream waiting for its reader: FFmpeg, ffplay or mpv connect to a one-shot address and
read the graded frames of a range as YUV4MPEG2, the way they read VapourSynth's vspipe."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from render.errors import MoodgradeError
from render.server.protocol import ProtocolError
from render.server.session import Session
from render.server.sockets import default_socket_path, private_folder, size_send_buffer
from render.server.y4m import y4m_frame

if TYPE_CHECKING:
    from render.server.server import PreviewServer


class Y4mStream:
    """A one-shot listener: the first reader to connect gets the y4m stream, then it closes."""

    def __init__(self, server: PreviewServer, session: Session, frames: range, header: bytes,
                 matrix: str, chroma: str):
        self.server, self.session, self.frames = server, session, frames
        self.header, self.matrix, self.chroma = header, matrix, chroma
        self.listener: asyncio.AbstractServer | None = None
        self.conn = None                # the control connection that asked for the stream
        self.path: Path | None = None
        self.taken = False

    async def listen(self, conn, transport: str) -> str:
        """Open the one-shot listener (``tcp`` on 127.0.0.1, or ``unix`` beside the server's socket); its URL."""
        if transport == "unix":
            folder = (self.server.socket_path or default_socket_path()).parent
            private_folder(folder)
            self.path = folder / f"y4m-{secrets.token_hex(8)}.sock"
            old = os.umask(0o177)
            try:
                self.listener = await asyncio.start_unix_server(self._serve, str(self.path))
            finally:
                os.umask(old)
            url = f"unix:{self.path}"
        else:
            self.listener = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            url = f"tcp://127.0.0.1:{self.listener.sockets[0].getsockname()[1]}"
        self.conn = conn
        self.server.y4m_waiting.add(self)
        asyncio.get_running_loop().call_later(self.server.config.y4m_accept_timeout_s, self.cancel)
        return url

    def cancel(self) -> None:
        """Stop waiting for a reader (at expiry or shutdown); nothing happens once one came."""
        if not self.taken:
            self.taken = True
            self.close_listener()
            self.session.release()

    def close_listener(self) -> None:
        """Stop waiting for the reader (its socket file, if any, is removed)."""
        self.listener.close()
        self.server.y4m_waiting.discard(self)
        if self.path is not None and self.path.exists():
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server.track_current_task()
        if self.taken:
            writer.close()
            return
        self.taken = True
        self.close_listener()
        size_send_buffer(writer, self.server.config.write_buffer_bytes)
        timeout = self.server.config.write_timeout_s
        try:
            writer.write(self.header)
            for n in self.frames:
                record, reservation = await self._record_of(n)
                with reservation:
                    writer.write(record)
                    await asyncio.wait_for(writer.drain(), timeout)
                self.session.prefetch_after(n)
        except (ConnectionError, TimeoutError, OSError, MoodgradeError, asyncio.CancelledError):
            writer.transport.abort()
        finally:
            writer.close()
            self.session.release()

    async def _record_of(self, n: int):
        """Frame ``n``'s y4m record and its reservation. A player cannot be told ``busy`` mid-stream,
        so a busy server is asked again for up to write_timeout_s, as a stalled reader is waited for."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.server.config.write_timeout_s
        while True:
            try:
                _, record, reservation = await self.server.run_for(self.conn, self.session.encoded, n, self._record)
                return record, reservation
            except ProtocolError as exc:
                if exc.code != "busy" or loop.time() > give_up:
                    raise
                await asyncio.sleep(0.05)

    def _record(self, rgb) -> bytes:
        return y4m_frame(rgb, self.matrix, self.chroma)
