"""Reaching Ray as an operator does: the local instance listens on loopback only, a cluster's
token is handed over by file, and a wrong address or token is one line before any work is done.
Only loopback addresses are used."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.farm.media import assert_same_render
from tests.farm.test_cli_farm import LOSSLESS_ARGS, farm_cli, needs_ray

LOOPBACK = ("127.0.0.1", "::ffff:127.0.0.1", "::1")


def _process_tree(root: int) -> set[int]:
    """``root`` and every process descended from it (from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(parents.get(pid, []))
    return tree


def _listening(pids: set[int]) -> list[tuple[str, str]]:
    """(local address, process) of every TCP socket listening in ``pids``, as `ss -ltnp` shows them."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        fields = line.split()
        if any(f"pid={pid}," in fields[-1] for pid in pids):
            found.append((fields[3].rsplit(":", 1)[0].strip("[]"), fields[-1]))
    return found


@needs_ray
@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2)")
def test_local_ray_instance_listens_on_loopback_only(ray_local):
    @ray_local.remote
    def worker_pid() -> int:
        return os.getpid()

    ray_local.get([worker_pid.remote() for _ in range(2)])       # workers up and listening too
    sockets = _listening(_process_tree(os.getpid()))
    names = " ".join(process for _, process in sockets)
    assert "gcs_server" in names and "raylet" in names, sockets
    assert all(address in LOOPBACK for address, _ in sockets), sockets


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def token_cluster():
    """A Ray head node on 127.0.0.1 with token authentication, as `ray start --head` runs one:
    (address, token file, environment without any token)."""
    pytest.importorskip("ray")
    home = Path(tempfile.mkdtemp(prefix="mg-ray-", dir="/tmp"))     # short: Ray's socket paths live under it
    token = home / "cluster.token"
    token.write_text("8d6f1c0e4b2a49e7a1c3f5d7b9e0a2c4\n")
    token.chmod(0o600)
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    clean["HOME"] = str(home)
    head_env = dict(clean, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token),
                    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    ray_cli = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen([ray_cli, "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
                             "--num-cpus=2", "--include-dashboard=false", f"--temp-dir={home / 'r'}"],
                            env=head_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or head.poll() is not None:
                    pytest.fail("the test's Ray head node did not start")
                time.sleep(0.5)
        time.sleep(2)
        yield f"127.0.0.1:{port}", token, clean
    finally:
        head.send_signal(signal.SIGTERM)          # `ray start --block` stops its own processes
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()
        shutil.rmtree(home, ignore_errors=True)


def _farm_render(env, *args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(farm_cli("farm", "render", *args), env=env, capture_output=True, text=True,
                          timeout=timeout)


@needs_ray
def test_cluster_without_our_token_is_one_line_before_analysis(token_cluster, farm_clip, tmp_path):
    address, _, env = token_cluster
    out = tmp_path / "o.mkv"
    started = time.monotonic()
    run = _farm_render(env, farm_clip, out, "--preset", "vivid", "--address", address)
    assert run.returncode == 2
    assert run.stderr.startswith("moodgrade: error: ") and run.stderr.count("\n") == 1, run.stderr
    assert f"the Ray cluster at {address} refused the connection" in run.stderr
    assert "token missing (InvalidAuthToken)" in run.stderr and "--ray-token-file" in run.stderr
    assert not (tmp_path / "o.mkv.farm").exists() and not out.exists()
    assert time.monotonic() - started < 20           # Ray alone would retry for minutes


@needs_ray
def test_wrong_or_unreadable_token_file_is_one_line(token_cluster, farm_clip, tmp_path):
    address, _, env = token_cluster
    wrong = tmp_path / "wrong.token"
    wrong.write_text("0000")
    run = _farm_render(env, farm_clip, tmp_path / "o.mkv", "--address", address, "--ray-token-file", wrong)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "token incorrect (InvalidAuthToken)" in run.stderr
    run = _farm_render(env, farm_clip, tmp_path / "o.mkv", "--address", address,
                       "--ray-token-file", tmp_path / "none.token")
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "none.token: cannot read" in run.stderr
    assert not (tmp_path / "o.mkv.farm").exists()


@needs_ray
def test_render_on_a_token_cluster_with_the_token_file(token_cluster, farm_clip, single_render, tmp_path):
    address, token, env = token_cluster
    out = tmp_path / "farm.mkv"
    run = _farm_render(env, farm_clip, out, *LOSSLESS_ARGS, "--chunks", "3", "--address", address,
                       "--ray-token-file", token, "-q")
    assert run.returncode == 0, run.stderr
    assert_same_render(out, single_render, frame_rate=25)
    # The variable Ray itself reads works as well as the option.
    run = _farm_render(dict(env, RAY_AUTH_TOKEN=token.read_text().strip()), farm_clip, tmp_path / "env.mkv",
                       *LOSSLESS_ARGS, "--chunks", "3", "--address", address, "-q")
    assert run.returncode == 0, run.stderr
    assert_same_render(tmp_path / "env.mkv", single_render, frame_rate=25)


@needs_ray
def test_unreachable_address_fails_before_the_analysis(farm_clip, tmp_path):
    started = time.monotonic()
    run = subprocess.run(farm_cli("farm", "render", farm_clip, tmp_path / "o.mkv", "--preset", "vivid",
                                  "--address", "127.0.0.1:1"), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in run.stderr
    assert not (tmp_path / "o.mkv.farm").exists()
    assert time.monotonic() - started < 20
