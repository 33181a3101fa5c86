"""Where CPU work runs: the session's process pool, and bounded, guarded runs on any executor.

The pool's workers start clean (forkserver or spawn), ignore Ctrl-C and end with the process that
made the pool. :func:`run_bounded` keeps a bounded number of tasks in flight on any
:class:`concurrent.futures.Executor`; :func:`run_guarded` also keeps a task that kills its worker
from failing the others.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from typing import Any

_shared_pool: ProcessPoolExecutor | None = None


def default_executor() -> ProcessPoolExecutor:
    """The session's local process pool: one worker per core, started on first use, then reused.

    Workers start clean (forkserver where there is one, else spawn: never ``fork``, which is
    unsafe from a notebook's threads) and each pays about half a second to import PyAV and
    numpy, once: later scans and maps reuse them. The pool is shut down when Python exits,
    and replaced if a worker died.
    """
    global _shared_pool
    if _shared_pool is None or getattr(_shared_pool, "_broken", False):
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        _shared_pool = ProcessPoolExecutor(
            os.cpu_count() or 2,
            mp_context=multiprocessing.get_context(method),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
    return _shared_pool


PR_SET_PDEATHSIG = 1  # linux/prctl.h
ORPHAN_POLL = 0.5  # seconds between a worker's checks that its owner lives, where it cannot wait


def _start_worker(owner: int) -> None:
    """In a worker of the session's pool: Ctrl-C (a notebook's "interrupt") is for the parent,
    which cancels what is queued; and the worker ends when ``owner``, the process that made the
    pool, dies (a kernel the OOM killer takes, a forced restart).

    Nothing else would end it: a worker waits on the pool's task queue, whose write end it holds
    itself. Its parent is the forkserver (or, with spawn, the owner), and the forkserver lives as
    long as any process holds its "alive" pipe, which every worker it forked inherits: so each
    worker drops its copy, the forkserver ends when the owner does, and
    ``PR_SET_PDEATHSIG`` (Linux) kills the worker with it, even in the middle of native code.
    With spawn the parent is a thread of the owner that may end long before it (a scan run
    from a thread), so there the death signal is not asked for. Everywhere, a thread in the
    worker waits for the owner to exit and ends the worker.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    if parent != owner:  # forked by the forkserver
        from multiprocessing import forkserver

        server = forkserver._forkserver
        alive = getattr(server, "_forkserver_alive_fd", None)
        if alive is not None:
            with contextlib.suppress(OSError):
                os.close(alive)
            server._forkserver_alive_fd = None  # type: ignore[attr-defined]
        _kill_with_parent(parent)
    watch = threading.Thread(
        target=_end_with, args=(owner, parent), name="mimo_nb-orphan-watch", daemon=True
    )
    watch.start()


def _kill_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this process when its parent ends."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0 and os.getppid() != parent:
            os._exit(1)  # the parent ended before the signal was asked for


def _end_with(owner: int, parent: int) -> None:
    """Wait until ``owner`` has exited (or this process's parent changed), then end this process."""
    try:
        handle = os.pidfd_open(owner)  # Linux 5.3+: readable once the owner has exited
    except (AttributeError, OSError):
        handle = None
    if handle is not None:
        poller = select.poll()
        poller.register(handle, select.POLLIN)
        poller.poll()
    elif os.name == "posix":  # os.kill(pid, 0) only asks on POSIX (elsewhere it terminates)
        while os.getppid() == parent and _exists(owner):
            time.sleep(ORPHAN_POLL)
    else:
        return
    os._exit(1)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's: it exists
    return True


def _executor(executor: Executor | None) -> tuple[Executor, int]:
    """The given executor, or the session's default pool; and how many tasks it runs at once."""
    pool = executor if executor is not None else default_executor()
    return pool, _workers_of(pool)


def _workers_of(executor: Executor) -> int:
    """How many tasks the executor runs at once, as well as it can be told."""
    width = getattr(executor, "_max_workers", None)  # the stdlib pools
    client = getattr(executor, "_client", None)  # dask's ClientExecutor
    if width is None and client is not None:
        with contextlib.suppress(Exception):
            width = sum(client.nthreads().values())
    return max(1, int(width or os.cpu_count() or 2))


class Unsent(Future):  # type: ignore[type-arg]
    """The future of a task the executor refused (its pool was already broken): it never ran."""


def run_bounded(
    executor: Executor,
    fn: Callable[..., Any],
    jobs: Iterable[tuple[Any, tuple[Any, ...]]],
    max_in_flight: int,
) -> Iterator[tuple[Any, Future[Any]]]:
    """Submit ``fn(*args)`` for each ``(key, args)``, at most ``max_in_flight`` at a time; yield as
    they finish.

    Works with any :class:`concurrent.futures.Executor` (stdlib pools, dask's ``get_executor()``):
    results stream back in completion order, and only ``max_in_flight`` tasks (and their
    results) exist at any moment.
    """
    pending: dict[Future[Any], Any] = {}
    jobs = iter(jobs)

    def top_up() -> None:
        for key, args in jobs:
            try:
                future = executor.submit(fn, *args)
            except Exception as exc:  # noqa: BLE001  (e.g. a broken pool: the task fails, the caller reports it)
                future = Unsent()
                future.set_exception(exc)
            pending[future] = key
            if len(pending) >= max_in_flight:
                return

    top_up()
    try:
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future
            top_up()
    finally:
        for future in pending:
            future.cancel()


MAX_CRASHES = 8  # tasks run alone that may kill their worker before the rest of a round is failed

Job = tuple[Any, tuple[Any, ...]]  # (key, args)


def run_guarded(
    executor: Executor | None,
    fn: Callable[..., Any],
    jobs: Iterable[Job],
    max_in_flight: int,
    split: Callable[[Any, tuple[Any, ...]], list[Job]] | None = None,
) -> Iterator[tuple[Any, tuple[Any, ...], Future[Any]]]:
    """:func:`run_bounded` on ``executor``; on the session's pool (``executor=None``), a task that
    kills its worker fails alone. Yields ``(key, args, future)`` as tasks finish.

    A worker of the session's pool that dies (a decoder crash on a hostile file, ``os._exit``)
    breaks the whole pool: every task in flight fails with it, and every later one is refused.
    So on that pool, once it broke, no new task is taken until the round ends; refused tasks are
    sent again as they were, on a fresh pool, and the tasks that were in flight are run again one
    at a time (``split`` cuts a task of several items into one per item): the one that kills
    its worker then fails alone (``BrokenExecutor``) and the others succeed. After
    ``MAX_CRASHES`` such deaths in a round the rest of its suspects fail unrun (workers that die
    whatever they run point elsewhere). A given executor (threads, Dask, the caller's own pool)
    is the caller's: its failures are passed on as they are.
    """
    jobs = iter(jobs)
    retry: list[Job] = []  # refused by a broken pool: sent again as they were
    while True:
        pool = executor if executor is not None else default_executor()
        sent: dict[Any, tuple[Any, ...]] = {}
        suspects: list[Job] = []
        broke = threading.Event()
        for key, future in run_bounded(pool, fn, _feed(jobs, retry, sent, broke), max_in_flight):
            args = sent.pop(key)
            if executor is None and _broke(future):
                broke.set()
                if isinstance(future, Unsent):
                    retry.append((key, args))
                else:  # ran when the pool broke: the one to blame, or a bystander
                    suspects += split(key, args) if split else [(key, args)]
                continue
            yield key, args, future
        crashes = 0
        for key, args in suspects:
            if crashes >= MAX_CRASHES:
                alone: Future[Any] = Unsent()
                alone.set_exception(BrokenExecutor("the local pool's workers keep dying"))
            else:
                try:
                    alone = default_executor().submit(fn, *args)
                    wait([alone])
                except Exception as exc:  # noqa: BLE001  (the pool could not start: the task fails)
                    alone = Unsent()
                    alone.set_exception(exc)
                crashes += _broke(alone)
            yield key, args, alone
        if not broke.is_set():
            return


def _feed(
    jobs: Iterator[Job], retry: list[Job], sent: dict[Any, Any], stop: threading.Event
) -> Iterator[Job]:
    """The jobs to submit, refused ones first, each noted in ``sent``; none once ``stop`` is set."""
    while not stop.is_set():
        job = retry.pop(0) if retry else next(jobs, None)
        if job is None:
            return
        sent[job[0]] = job[1]
        yield job


def _broke(future: Future[Any]) -> bool:
    """True if the task failed because its pool broke (a worker died), not by its own error."""
    return not future.cancelled() and isinstance(future.exception(), BrokenExecutor)
