"""Ctrl-C during ``fit``: finish the running batch, then stop.

A KeyboardInterrupt raised in the middle of a training step could land
between the forward pass and the optimizer update, or between the
optimizer's step counter and its slot arrays, leaving weights and optimizer
state out of step. While ``fit`` runs in the main thread with Python's
default SIGINT handler, ``DeferredInterrupt`` replaces that handler with
one that only records the request; ``fit`` checks ``pending`` between
batches and stops there, so the model always holds the result of whole
steps. Elsewhere (another thread, a custom handler) nothing is changed.
"""

import signal
import sys
import threading


class DeferredInterrupt:
    def __init__(self):
        self.pending = False
        self._previous = None

    def __enter__(self):
        self.pending = False
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._record)
        return self

    def _record(self, signum, frame):
        if not self.pending:
            sys.stdout.write("\nInterrupt received; stopping after the current batch.\n")
            sys.stdout.flush()
        self.pending = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False
