"""rps-tui: a full-screen terminal dashboard for Redis Pub/Sub."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`__version__`, read from the installed metadata when asked for: importlib.metadata
    takes 20 ms to import, and a Ctrl-C during an import at the top of the package would
    print a traceback before `main` could handle it."""
    if name != "__version__":
        raise AttributeError(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rps-tui")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"
