"""Stopping cleanly: child processes that never outlive us, and SIGTERM taken as Ctrl-C.

``up`` serves the dashboard as a child process. A plain ``Popen`` child outlived ``up`` when a service manager (or
``kill``) sent SIGTERM: Python's default SIGTERM ends the process at once, no ``finally`` runs, and Streamlit stayed
up, orphaned and serving. So:

- :func:`sigterm_as_interrupt` makes SIGTERM take the same path as Ctrl-C (``KeyboardInterrupt``, and inside
  ``asyncio.run`` the cancellation of the running crawl), so every ``finally`` runs and runs are marked
  ``interrupted``;
- a :class:`Child` runs in a session of its own — the terminal's Ctrl-C reaches only us, and we stop it, in order —
  and is stopped as a whole process group: SIGTERM, a grace period, then SIGKILL (also when a second Ctrl-C cuts
  the grace period short);
- on Linux a child also gets SIGTERM when we die without cleaning up (SIGKILL, the OOM killer): a four-line
  launcher sets ``PR_SET_PDEATHSIG`` and then ``exec``\\ s the command, so the child keeps its pid and nothing is
  run between ``fork`` and ``exec`` in our (threaded) process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import IO, Any

__all__ = ["GRACE", "Child", "sigterm_as_interrupt"]

#: Seconds a child has to stop after SIGTERM before it is killed.
GRACE = 5.0

# Run as ``python -c _LAUNCHER PARENT_PID PROGRAM ARGS…``: die with the parent (1 is PR_SET_PDEATHSIG), unless
# the parent is gone already, then become PROGRAM.
_LAUNCHER = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)\n"
    "os.getppid() == int(sys.argv[1]) or sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


class Child:
    """A child process in a session (and process group) of its own, which dies with us. Build with :meth:`start`."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @classmethod
    def start(cls, cmd: Sequence[str], *, env: Mapping[str, str], stderr: IO[Any] | int | None = None) -> Child:
        """Start ``cmd`` (its first item a program path) with standard output discarded."""
        argv = list(cmd)
        if sys.platform.startswith("linux"):
            argv = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), *argv]
        popen = subprocess.Popen(argv, env=dict(env), stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
        return cls(popen)

    @property
    def pid(self) -> int:
        """The child's pid (also its process group's id)."""
        return self.popen.pid

    def poll(self) -> int | None:
        """Its exit status, or None while it runs."""
        return self.popen.poll()

    def stop(self, grace: float = GRACE) -> None:
        """Stop the child's process group: SIGTERM, then SIGKILL after ``grace`` seconds (at once when a second
        Ctrl-C interrupts the wait); return once the child has exited."""
        if self.popen.poll() is not None:
            return
        self._signal_group(signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if self.popen.poll() is None:
                self._signal_group(signal.SIGKILL)
                self.popen.wait()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[list[int]]:
    """Within the block, SIGTERM stops the process as Ctrl-C does, and so does SIGINT even where it was ignored (a
    job a shell put in the background). Yields the list of SIGTERMs received (empty when it was Ctrl-C, or nothing),
    so the caller can say which it was; a repeated SIGTERM is ignored while the first is being handled."""
    received: list[int] = []

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:
            return  # stopping already: a second TERM must not cut the clean-up short
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)  # inside asyncio.run, its own handler: cancel the running task
        else:
            raise KeyboardInterrupt

    # Python's own Ctrl-C handler, which asyncio.run replaces by one that cancels the running task cleanly: only
    # then does an interrupt inside a crawl end it as ``interrupted``, not tear through the event loop.
    previous_int = signal.getsignal(signal.SIGINT)
    if not callable(previous_int):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)
        if not callable(previous_int) and previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)
