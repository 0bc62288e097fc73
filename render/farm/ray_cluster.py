"""Reaching Ray for a farm job: the token, the address check, a local instance on loopback.

Ray 2.60 protects a cluster with a token: ``ray start --head`` turns token
authentication on when the head node has a token (``~/.ray/auth_token``,
``RAY_AUTH_TOKEN_PATH`` or ``RAY_AUTH_TOKEN``), and ``ray.init()`` always does
for the local instance it starts. A driver that connects to an explicit
address only sends a token when ``RAY_AUTH_MODE=token`` is set. Here:

- :func:`use_token` takes the cluster's token from a file (``--ray-token-file``)
  or from the variables Ray reads, and turns token mode on for this process
  and every process it starts;
- :func:`check_cluster` asks the head node once, in about a second, before
  any work is done: an address that does not answer, or that refuses our
  token, is one line naming the cause (Ray itself would retry for minutes and
  print the cause only in its log);
- :func:`ray_session` starts (and at the end stops) a local instance whose
  every server listens on 127.0.0.1 only, or connects to a cluster.
"""

import contextlib
import functools
import logging
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from render.errors import MoodgradeError
from render.heap import give_back_freed_memory

CONNECT_TIMEOUT_S = 5.0
RAY_TASK_RETRIES = 2            # re-runs by Ray of a task whose worker process died
TOKEN_ENV = ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")
_AUTH_MODE_ENV = "RAY_AUTH_MODE"
# Ray 2.60 takes the machine's network address for the node unless this is 0 when ray is
# imported; with 127.0.0.1 as the node's address, the GCS, raylet and workers bind loopback.
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_TOKEN_HELP = ("give the cluster's token with --ray-token-file FILE (on the head node "
               "`ray get-auth-token` prints it) or set RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN")


def freeing(work):
    """``work`` as a Ray task body that gives its freed memory back when it ends (a worker
    process is kept for the next task, which need not be as large)."""
    @functools.wraps(work)
    def task(*args, **kwargs):
        try:
            return work(*args, **kwargs)
        finally:
            give_back_freed_memory()
    return task


def import_ray():
    """The ray module, or a one-line MoodgradeError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MoodgradeError("the render farm needs Ray: pip install 'moodgrade[farm]'") from None
    return ray


def use_token(token_file: str | os.PathLike | None = None) -> bool:
    """Send the cluster's token from this process (and the processes it starts) on.

    ``token_file``: a file holding the token (as ``ray get-auth-token`` prints it);
    None uses ``RAY_AUTH_TOKEN_PATH`` or ``RAY_AUTH_TOKEN`` when one is set. Sets
    ``RAY_AUTH_MODE=token`` unless the operator set a mode. Returns True when a
    token is in use. Raises MoodgradeError for a file that cannot be read or is empty.
    """
    if token_file is not None:
        path = Path(token_file).expanduser()
        try:
            token = path.read_text().strip()
        except OSError as exc:
            raise MoodgradeError(f"Ray token file {path}: cannot read ({exc.strerror or exc})") from None
        if not token:
            raise MoodgradeError(f"Ray token file {path}: is empty")
        os.environ["RAY_AUTH_TOKEN_PATH"] = str(path.resolve())
        os.environ.pop("RAY_AUTH_TOKEN", None)        # Ray prefers it to the file: the file given wins
    elif not any(os.environ.get(name) for name in TOKEN_ENV):
        return False
    if os.environ.setdefault(_AUTH_MODE_ENV, "token") != "token":
        return False
    _reload_auth_config()
    return True


def _reload_auth_config() -> None:
    """Make an already imported Ray see the token settings (its config is read once)."""
    import sys

    if "ray" in sys.modules:
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()


def check_cluster(address: str) -> str:
    """Check that the Ray head node at ``address`` ("auto" or HOST:PORT) answers and accepts us.

    Returns HOST:PORT of the head node. Raises a one-line MoodgradeError when the
    address is malformed, nothing answers there (within :data:`CONNECT_TIMEOUT_S`), no
    cluster runs on this machine ("auto"), or the head node refuses this process's token.
    """
    ray = import_ray()
    if address == "auto":
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address("auto")
        if not found:
            raise MoodgradeError("--address auto: no Ray cluster runs on this machine "
                                 "(start one with `ray start --head`, or give HOST:PORT)")
        address = found
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise MoodgradeError(f"Ray address {address!r}: give 'auto' or HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise MoodgradeError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc})") from None
    try:
        from ray._raylet import GcsClient
    except ImportError:        # another Ray than the one this probe was written for: ray.init will tell
        return address
    try:
        with _stderr_silenced():          # Ray's C++ client logs every refused try on stderr
            GcsClient(address=address, cluster_id=None).internal_kv_get(b"moodgrade-probe", None,
                                                                        timeout=CONNECT_TIMEOUT_S)
    except (TypeError, AttributeError):   # the probe's API changed: ray.init will tell
        return address
    except ray.exceptions.AuthenticationError:
        state = "incorrect" if os.environ.get(_AUTH_MODE_ENV) == "token" else "missing"
        raise MoodgradeError(f"the Ray cluster at {address} refused the connection: authentication "
                             f"token {state} (InvalidAuthToken); {_TOKEN_HELP}") from None
    except Exception as exc:  # noqa: BLE001 - whatever the head node answers, one line
        raise MoodgradeError(f"the Ray cluster at {address} does not answer as a Ray head node "
                             f"({_first_line(exc)})") from None
    return address


@contextlib.contextmanager
def ray_session(address: str | None = None, workers: int | None = None,
                token_file: str | os.PathLike | None = None) -> Iterator:
    """Ray for one job: yields the ray module, connected; what it started is stopped at the end.

    ``address``: None starts a local instance (``workers`` CPUs, None: all), listening on
    127.0.0.1 only; "auto" or HOST:PORT joins a cluster, checked first with
    :func:`check_cluster`. A process that already runs Ray keeps its connection.
    ``token_file``: see :func:`use_token`. Raises MoodgradeError when Ray cannot start or be reached.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    use_token(token_file)
    if address is not None:
        address = check_cluster(address)
    try:
        if address is None:
            with _loopback_node(ray):
                ray.init(address="local", num_cpus=workers, include_dashboard=False,
                         _node_ip_address="127.0.0.1", logging_level=logging.ERROR, log_to_driver=False)
        else:
            # A head node on this machine's loopback: Ray must not swap 127.0.0.1 for the machine's address.
            loopback = address.rpartition(":")[0].strip("[]") in ("127.0.0.1", "localhost", "::1")
            with _loopback_node(ray) if loopback else contextlib.nullcontext():
                ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError, ray.exceptions.RayError) as exc:
        where = "a local Ray instance" if address is None else f"the Ray cluster at {address}"
        raise MoodgradeError(f"cannot start or reach {where} ({_first_line(exc)})") from None
    try:
        yield ray
    finally:
        ray.shutdown()


@contextlib.contextmanager
def _loopback_node(ray) -> Iterator[None]:
    """Let Ray keep 127.0.0.1 as the node's address while it starts (it reads this
    setting when it is imported, so a process that imported ray first needs it set here)."""
    from ray._private import ray_constants

    saved = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    saved_env = os.environ.get(_LOOPBACK_ENV)
    os.environ[_LOOPBACK_ENV] = "0"                 # for the processes Ray starts
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved
        if saved_env is None:
            os.environ.pop(_LOOPBACK_ENV, None)
        else:
            os.environ[_LOOPBACK_ENV] = saved_env


@contextlib.contextmanager
def _stderr_silenced() -> Iterator[None]:
    """File descriptor 2 goes to a scratch file for the duration (C++ logging writes there)."""
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as scratch:
            os.dup2(scratch.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
