"""``moodgrade serve``: the live preview server for editors (protocol in docs/protocol.md)."""

import dataclasses
import os

import click

from render.cli import cli
from render.cli.grade import grade_options, look_options
from render.errors import MoodgradeError
from render.looks.preset import load_preset
from render.mood_grade import GradeOptions, grade_recipe
from render.server.server import TOKEN_ENV, ServerConfig, print_ready, run_server


def check_grade(grade: GradeOptions) -> None:
    """Refuse a bad --preset, --op, --lut, --cdl or --grade-file at start, not at each client's open."""
    if grade.preset:
        load_preset(grade.preset)
    grade_recipe(dataclasses.replace(grade, preset=None), None, None)


@cli.command()
@click.option("--root", "roots", multiple=True, required=True, type=click.Path(),
              help="A folder whose files clients may open (repeat for more).")
@click.option("--socket", "socket_path", type=click.Path(), default=None,
              help="Unix socket path (default $XDG_RUNTIME_DIR/moodgrade/preview.sock, "
                   "else /tmp/moodgrade-UID/preview.sock); its folder must be private (0700).")
@click.option("--no-unix", is_flag=True, help="Do not listen on a Unix socket (needs --tcp).")
@click.option("--tcp", "tcp_port", type=click.IntRange(0, 65535), default=None,
              help=f"Also listen on 127.0.0.1:PORT (0: any free port); clients must send the token "
                   f"(${TOKEN_ENV}, else a new one is printed).")
@look_options
@click.option("--memory-mb", type=click.IntRange(128, 1 << 20), default=1024, show_default=True,
              help="Memory for everything the server holds (decoders, decoded and graded frames, replies "
                   "being sent), all clients together; past it, requests are answered 'busy'.")
@click.option("--prefetch", "prefetch_frames", type=click.IntRange(0, 256), default=8, show_default=True,
              help="Frames decoded and graded ahead of each client's last request.")
@click.option("--max-clients", type=click.IntRange(1, 4096), default=64, show_default=True)
@click.option("--idle-timeout", "idle_timeout_s", type=click.FloatRange(1), default=300.0, show_default=True,
              help="Seconds a client may stay silent before it is dropped.")
def serve(roots, socket_path, no_unix, tcp_port, memory_mb, prefetch_frames, max_clients, idle_timeout_s,
          **look) -> None:
    """Serve graded frames to editors and players over a local socket until SIGTERM or Ctrl-C.

    The look options set every new session's grade (clients change theirs with `set`).
    """
    if no_unix and tcp_port is None:
        raise MoodgradeError("--no-unix needs --tcp PORT: there would be nothing to listen on")
    token = os.environ.get(TOKEN_ENV) or None
    grade = grade_options(look)
    check_grade(grade)
    config = ServerConfig(roots=tuple(roots), socket_path=socket_path, unix=not no_unix, tcp_port=tcp_port,
                          token=token, grade=grade, memory_mb=memory_mb, prefetch_frames=prefetch_frames,
                          max_clients=max_clients, idle_timeout_s=idle_timeout_s)
    run_server(config, on_ready=lambda server, addresses: print_ready(server, addresses, token_shown=token is None))
