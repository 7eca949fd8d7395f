"""Thread plans and the bounded concurrent runner the pipelines share."""

from __future__ import annotations

import threading
import time

import pytest

from tcm_desktop.inference.threads import ThreadPlan, run_jobs


def test_the_cpu_plan_runs_single_thread_models_side_by_side() -> None:
    assert ThreadPlan.for_threads(4) == ThreadPlan(workers=4, intra_op=1)
    assert ThreadPlan.for_threads(1) == ThreadPlan(workers=1, intra_op=1)
    assert ThreadPlan.for_threads(None) == ThreadPlan(workers=1, intra_op=0)
    assert ThreadPlan.for_threads(4, gpu=True) == ThreadPlan(workers=1, intra_op=4)
    with pytest.raises(ValueError, match="positive"):
        ThreadPlan.for_threads(0)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_every_job_runs_once_and_results_come_back_by_index(workers: int) -> None:
    got: dict[int, int] = {}
    callers: set[str] = set()

    def collect(index: int, value: int) -> None:
        callers.add(threading.current_thread().name)
        got[index] = value

    run_jobs([lambda i=i: i * i for i in range(10)], workers, on_result=collect)
    assert got == {i: i * i for i in range(10)}
    assert callers == {threading.current_thread().name}  # results are handled in the calling thread


def test_no_more_than_workers_run_at_once_and_they_do_overlap() -> None:
    lock = threading.Lock()
    running, most = 0, 0

    def job() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    run_jobs([job] * 9, 3)
    assert most == 3


def test_an_error_stops_the_jobs_not_started_and_is_raised() -> None:
    started: list[int] = []

    def job(i: int) -> int:
        started.append(i)
        if i == 1:
            raise RuntimeError("batch 1 failed")
        time.sleep(0.01)
        return i

    with pytest.raises(RuntimeError, match="batch 1 failed"):
        run_jobs([lambda i=i: job(i) for i in range(20)], 2)
    assert len(started) < 20


def test_before_each_can_stop_the_run_between_jobs() -> None:
    started: list[int] = []
    checks = 0

    def check() -> None:
        nonlocal checks
        checks += 1
        if checks > 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_jobs([lambda i=i: started.append(i) for i in range(10)], 2, before_each=check)
    assert sorted(started) == [0, 1, 2]
