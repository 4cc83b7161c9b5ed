"""Abstract values carried by the interpreter."""

from __future__ import annotations


class _Unknown:
    """An argument or value the reader could not resolve. Checks involving it stay silent."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; test `is UNKNOWN` first")


UNKNOWN = _Unknown()
