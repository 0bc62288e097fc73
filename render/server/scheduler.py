"""Fair service for the preview server's clients: start-time fair queuing on a few worker threads.

Every job (decode, grade and encode one frame; open a clip; build a grade) is
charged to the client that asked for it. Each client has a virtual finish time
that grows by the seconds its jobs take (estimated from its previous job when
queued, corrected when done); the next job to run is the one whose start tag
(the later of the client's finish time and the scheduler's virtual clock) is
smallest (Goyal, Vin and Cheng's start-time fair queuing). A client
that asks little (an editor opening a clip for one thumbnail) therefore runs
next, however many heavy clients are scrubbing, and heavy clients share what
is left evenly. Read-ahead (``background`` jobs) runs only when no client is
waiting. A client may have ``per_client_jobs`` jobs queued or running; a job
that has waited ``queue_timeout_s`` is answered ``busy`` instead of run, so an
overloaded server says so quickly instead of queueing without bound.
"""

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future

from render.server.protocol import ProtocolError


FIRST_COST_S = 0.01        # the estimated cost of a client's first job


class _Job:
    __slots__ = ("client", "fn", "args", "future", "queued_at", "start_tag", "estimate_s")

    def __init__(self, client: Hashable, fn: Callable, args: tuple, start_tag: float, estimate_s: float):
        self.client, self.fn, self.args = client, fn, args
        self.start_tag, self.estimate_s = start_tag, estimate_s
        self.future: Future = Future()
        self.queued_at = time.monotonic()


class FairScheduler:
    """Runs submitted jobs on ``workers`` threads, fairly between clients (see the module doc)."""

    def __init__(self, workers: int, per_client_jobs: int = 4, queue_timeout_s: float = 5.0,
                 thread_name: str = "moodgrade-serve"):
        self.per_client_jobs, self.queue_timeout_s = per_client_jobs, queue_timeout_s
        self._lock = threading.Condition()
        self._queue: list[tuple[float, int, _Job]] = []          # (start tag, order, job): a heap
        self._background: dict[Hashable, tuple[Callable, tuple]] = {}   # the newest read-ahead per client
        self._finish: dict[Hashable, float] = {}                 # virtual finish time per client
        self._cost_s: dict[Hashable, float] = {}                 # the seconds of its last job, per client
        self._jobs: dict[Hashable, int] = {}                     # queued + running per client
        self._gone: set[Hashable] = set()                        # forgotten, with jobs still running
        self._virtual_s = 0.0
        self._order = itertools.count()
        self._stopping = False
        self._threads = [threading.Thread(target=self._work, name=f"{thread_name}-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, client: Hashable, fn: Callable, *args) -> Future:
        """Run ``fn(*args)`` for ``client``; the future fails with ProtocolError ``busy`` when the
        client already has ``per_client_jobs`` jobs, or when the job waits ``queue_timeout_s``."""
        with self._lock:
            if self._stopping:
                raise ProtocolError("busy", "the server is shutting down")
            if self._jobs.get(client, 0) >= self.per_client_jobs:
                raise ProtocolError("busy", f"at most {self.per_client_jobs} requests per client at a time")
            tag = max(self._virtual_s, self._finish.get(client, 0.0))
            estimate_s = self._cost_s.get(client, FIRST_COST_S)
            self._finish[client] = tag + estimate_s
            job = _Job(client, fn, args, tag, estimate_s)
            self._jobs[client] = self._jobs.get(client, 0) + 1
            heapq.heappush(self._queue, (tag, next(self._order), job))
            self._lock.notify()
        return job.future

    def submit_background(self, client: Hashable, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` when no client's job is waiting; replaces the client's earlier read-ahead
        that has not started (its errors are dropped: read-ahead only fills caches)."""
        with self._lock:
            if not self._stopping:
                self._background[client] = (fn, args)
                self._lock.notify()

    def forget(self, client: Hashable) -> None:
        """The client has gone: drop its read-ahead and, once its jobs are done, its accounts."""
        with self._lock:
            self._background.pop(client, None)
            if not self._jobs.get(client):
                self._drop(client)
            else:
                self._gone.add(client)

    def shutdown(self) -> None:
        """Refuse new jobs, answer queued ones ``busy``, and wait for the running ones."""
        with self._lock:
            self._stopping = True
            queued, self._queue = self._queue, []
            self._background.clear()
            self._lock.notify_all()
        for _, _, job in queued:
            job.future.set_exception(ProtocolError("busy", "the server is shutting down"))
        for thread in self._threads:
            thread.join()

    def _next(self):
        """The next job (or background pair), waiting for one; None when stopping."""
        with self._lock:
            while True:
                if self._queue:
                    tag, _, job = heapq.heappop(self._queue)
                    self._virtual_s = max(self._virtual_s, tag)
                    return job
                if self._background:
                    client = next(iter(self._background))
                    return self._background.pop(client)
                if self._stopping:
                    return None
                self._lock.wait()

    def _work(self) -> None:
        while (item := self._next()) is not None:
            if not isinstance(item, _Job):
                fn, args = item
                try:
                    fn(*args)
                except Exception:  # noqa: BLE001 - read-ahead only fills caches; the request will say what failed
                    pass
                continue
            self._run(item)

    def _run(self, job: _Job) -> None:
        started = time.monotonic()
        try:
            if started - job.queued_at > self.queue_timeout_s:
                raise ProtocolError("busy", f"the server is overloaded (waited {started - job.queued_at:.1f} s)")
            result = job.fn(*job.args)
        except BaseException as exc:  # noqa: BLE001 - delivered to the waiting request
            job.future.set_exception(exc)
        else:
            job.future.set_result(result)
        finally:
            cost_s = time.monotonic() - started
            with self._lock:
                self._finish[job.client] += cost_s - job.estimate_s
                self._cost_s[job.client] = cost_s
                self._jobs[job.client] -= 1
                if not self._jobs[job.client] and job.client in self._gone:
                    self._drop(job.client)

    def _drop(self, client: Hashable) -> None:
        self._gone.discard(client)
        for accounts in (self._jobs, self._finish, self._cost_s):
            accounts.pop(client, None)
