"""A minimal observer hook for Qt-free models (napari style): views subscribe, models emit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """A minimal signal: ``connect`` callbacks, ``emit`` calls them in order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., object]] = []

    def connect(self, callback: Callable[..., object]) -> None:
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., object]) -> None:
        """Forget ``callback``; a callback that was never connected is ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        # Iterate over a copy so a callback may disconnect itself.
        for callback in list(self._callbacks):
            callback(*args)
