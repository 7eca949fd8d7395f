"""How the pipelines spend their thread budget: whole model runs side by side, one ONNX thread each.

On a CPU the models' matrices are small (a few hundred characters by a few
hundred channels), so ONNX Runtime's intra-op threads split them poorly;
running whole batches concurrently scales much better. Measured on a 2-core
AMD EPYC with tcm-text 0.2.0 and the 200 corpus-mix records of ``tcm bench``:
one run at a time with 1 thread 27.5 records/s, with 2 intra-op threads
33.2, two runs at a time of 1 thread each 46.6. ONNX Runtime releases the
GIL while a session runs, and one session serves concurrent runs.

With the CUDA provider the GPU does the parallel work: one run at a time
with the requested threads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from tcm_desktop.inference.errors import PredictionCancelled

T = TypeVar("T")
StopFn = Callable[[], bool]


def stop_check(should_stop: StopFn | None) -> Callable[[], None]:
    """A ``before_each`` for :func:`run_jobs`: raises :class:`PredictionCancelled` once ``should_stop()`` is true."""

    def check() -> None:
        if should_stop is not None and should_stop():
            raise PredictionCancelled("prediction stopped on request")

    return check


@dataclass(frozen=True)
class ThreadPlan:
    """``workers`` model runs at a time, each with ``intra_op`` ONNX Runtime threads (0: its own choice)."""

    workers: int
    intra_op: int

    @classmethod
    def for_threads(cls, threads: int | None, gpu: bool = False) -> ThreadPlan:
        """The plan for a budget of ``threads`` (None: ONNX Runtime decides, one run at a time)."""
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be positive (or None for ONNX Runtime's choice), got {threads}")
        if threads is None or threads == 1 or gpu:
            return cls(1, int(threads or 0))
        return cls(threads, 1)


def run_jobs(
    jobs: Sequence[Callable[[], T]],
    workers: int,
    on_result: Callable[[int, T], None] | None = None,
    before_each: Callable[[], None] | None = None,
) -> None:
    """Run ``jobs``, at most ``workers`` at a time, started in order.

    ``before_each()`` runs in the calling thread before each job starts (it
    may raise to stop: jobs not started yet never start); ``on_result(index,
    value)`` runs in the calling thread as each job finishes. The first
    error of a job is raised here once the jobs already running have
    finished; the rest are not started. With one worker or one job
    everything runs in the calling thread.
    """
    if workers <= 1 or len(jobs) <= 1:
        for index, job in enumerate(jobs):
            if before_each is not None:
                before_each()
            value = job()
            if on_result is not None:
                on_result(index, value)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="tcm-inference") as pool:
        running: dict[Future[T], int] = {}
        queue = iter(enumerate(jobs))

        def start_next() -> None:
            for index, job in queue:
                if before_each is not None:
                    before_each()
                running[pool.submit(job)] = index
                return

        try:
            for _ in range(workers):
                start_next()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = running.pop(future)
                    value = future.result()
                    if on_result is not None:
                        on_result(index, value)
                    start_next()
        finally:
            wait(running)  # on an error: let the runs in flight end before the caller moves on
