"""Keras' progress bar.

On a terminal it redraws one line per update:
``1875/1875 ━━━━━━━━━━━━━━━━━━━━ 12s 6ms/step - accuracy: 0.9812 - loss: 0.0598``;
when output is not a terminal it prints only the final line of each epoch.
Values are shown with 4 significant decimals (``%.4e`` when tiny), keys sorted.
"""

import sys
import time


def _format_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"


def _format_time(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _per_step(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


class Progbar:
    def __init__(self, target, width=20, verbose=1, interval=0.05, stream=None):
        self.target, self.width, self.verbose, self.interval = target, width, verbose, interval
        self.stream = stream or sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty()) and verbose == 1
        self.start = time.time()
        self._last_update = 0.0
        self._last_len = 0

    def _values_text(self, values):
        return "".join(f" - {k}: {_format_value(float(v))}" for k, v in sorted(values.items()))

    def update(self, current, values=None, finalize=None):
        values = values or {}
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        now = time.time()
        if self.verbose == 0 or (not finalize and (not self.dynamic or now - self._last_update < self.interval)):
            return
        self._last_update = now
        elapsed = now - self.start
        per_step = elapsed / max(current, 1)
        if self.verbose == 2:
            if finalize:
                line = f"{current}/{self.target} - {_format_time(elapsed)} - {_per_step(per_step)}"
                self.stream.write(line + self._values_text(values) + "\n")
                self.stream.flush()
            return
        digits = len(str(self.target)) if self.target else 1
        bar = f"{current:{digits}d}/{self.target} " if self.target else f"{current} "
        filled = int(self.width * current / self.target) if self.target else 0
        if self.dynamic:
            bar += "\x1b[32m" + "━" * filled + "\x1b[0m" + "\x1b[37m" + "━" * (self.width - filled) + "\x1b[0m"
        else:
            bar += "━" * filled + " " * (self.width - filled) if filled < self.width else "━" * self.width
        if finalize:
            info = f" {_format_time(elapsed)} {_per_step(per_step)}"
        else:
            eta = per_step * (self.target - current) if self.target else 0
            info = f" {_format_time(eta)} {_per_step(per_step)}"
        line = bar + info + self._values_text(values)
        if self.dynamic:
            pad = max(self._last_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad + ("\n" if finalize else ""))
            self._last_len = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
