"""Consumers scaled out: N ``f1pipe`` processes of one consumer group, run and stopped together.

``f1pipe consume --workers N`` and ``f1pipe land --workers N`` start worker processes of the
``f1pipe`` command (the same as N separate commands: Kafka spreads the partitions over the
group's members with cooperative-sticky rebalancing). Workers run in their own sessions, so a
Ctrl-C reaches only the parent, which passes one SIGTERM on to each worker (flush, commit,
close). A worker that fails stops the others, and the command exits non-zero naming it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from f1pipe.errors import F1PipeError

SUMMARY_ENV = "F1PIPE_WORKER_SUMMARY"  # a worker writes its summary (JSON) to this file
STOP_TIMEOUT_S = 60.0


@dataclass
class WorkerResult:
    index: int
    returncode: int
    summary: dict | None  # the worker's summary, when it wrote one


class WorkerPool:
    """Start ``count`` copies of ``f1pipe <args>``; :meth:`wait` for them, :meth:`stop` them."""

    def __init__(self, args: list[str], count: int, first_index: int = 1):
        self.args = args
        self.count = count
        self.first_index = first_index
        self._dir = Path(tempfile.mkdtemp(prefix="f1pipe-workers-"))
        self.procs: list[subprocess.Popen] = []
        self._stopping = threading.Event()

    def start(self) -> WorkerPool:
        for i in range(self.first_index, self.first_index + self.count):
            env = {**os.environ, SUMMARY_ENV: str(self._dir / f"worker-{i}.json"),
                   "F1PIPE_WORKER_INDEX": str(i)}
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "f1pipe.cli", *self.args], env=env,
                stdin=subprocess.DEVNULL, start_new_session=True))
        return self

    def stop(self) -> None:
        """Ask every running worker to finish (SIGTERM once: flush, commit, close)."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()

    def wait(self, on_failure_stop: bool = True) -> list[WorkerResult]:
        """Wait until every worker has exited; the first failure stops the others."""
        try:
            while any(p.poll() is None for p in self.procs):
                if on_failure_stop and any(p.poll() not in (None, 0) for p in self.procs):
                    self.stop()
                time.sleep(0.1)
        except KeyboardInterrupt:
            self.stop()
            self._wait_stopped()
        return [WorkerResult(self.first_index + n, p.returncode, self._summary(n))
                for n, p in enumerate(self.procs)]

    def failure(self) -> str | None:
        """One line naming the first worker that exited with an error while the pool was not
        being stopped (a worker killed, a crash); None while all run or ended well."""
        if self._stopping.is_set():
            return None
        for n, proc in enumerate(self.procs):
            code = proc.poll()
            if code not in (None, 0):
                return (f"consumer worker {self.first_index + n} exited with status {code} "
                        "(its error is printed above); the others were stopped")
        return None

    def _wait_stopped(self) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def _summary(self, n: int) -> dict | None:
        try:
            return json.loads((self._dir / f"worker-{self.first_index + n}.json").read_text())
        except (OSError, ValueError):
            return None


def write_summary(summary: dict) -> None:
    """In a worker: hand the run's summary to the parent (no-op outside a pool)."""
    path = os.environ.get(SUMMARY_ENV)
    if path:
        Path(path).write_text(json.dumps(summary))


def check_results(results: list[WorkerResult]) -> None:
    """F1PipeError naming the first worker that failed (SIGTERM-stopped ones did not)."""
    failed = [r for r in results if r.returncode not in (0, -signal.SIGTERM)]
    if failed:
        first = failed[0]
        raise F1PipeError(f"consumer worker {first.index} exited with status "
                          f"{first.returncode} (its error is printed above); the others "
                          "were stopped")


def forward_signals(pool: WorkerPool):
    """Context: SIGTERM / SIGINT to this process stop the pool's workers (once)."""
    return _Forwarding(pool)


class _Forwarding:
    def __init__(self, pool: WorkerPool):
        self.pool = pool
        self.previous: dict[int, object] = {}

    def __enter__(self) -> WorkerPool:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.previous[sig] = signal.signal(sig, lambda *_: self.pool.stop())
        return self.pool

    def __exit__(self, *_exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
