"""rps-tui: a full-screen terminal dashboard for Redis Pub/Sub."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rps-tui")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
