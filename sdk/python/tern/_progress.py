"""Progress bars for long calls made with verbose=True: tqdm when it is installed, else a
plain line on standard error that rewrites itself."""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Optional

try:
    import tqdm as _tqdm
except ImportError:  # tqdm is optional
    _tqdm = None

Progress = Callable[[int, int], None]


def write(line: str) -> None:
    """Prints a verbose line without breaking a progress bar."""
    if _tqdm is not None:
        _tqdm.tqdm.write(line, file=sys.stderr)
    else:
        print(line, file=sys.stderr)


@contextlib.contextmanager
def bar(enabled: bool, description: str) -> Iterator[Optional[Progress]]:
    """Yields a progress(index, count) callback (None when not enabled). A new pass over the
    items (index 0 again) starts a new bar."""
    if not enabled:
        yield None
        return
    state = {"bar": None, "pass": 0}

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()
        state["bar"] = None

    def progress(index: int, count: int) -> None:
        if index == 0:
            close()
            state["pass"] += 1
            state["bar"] = _Bar(f"{description} (pass {state['pass']})", count)
        state["bar"].update(index + 1)

    try:
        yield progress
    finally:
        close()


class _Bar:
    """One bar: tqdm's, or a plain one."""

    def __init__(self, description: str, total: int) -> None:
        self.description, self.total = description, total
        self.tqdm = _tqdm.tqdm(total=total, desc=description, file=sys.stderr) if _tqdm else None

    def update(self, done: int) -> None:
        if self.tqdm is not None:
            self.tqdm.update(done - self.tqdm.n)
        else:
            print(f"\r{self.description}: {done}/{self.total}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.tqdm is not None:
            self.tqdm.close()
        else:
            print(file=sys.stderr)
