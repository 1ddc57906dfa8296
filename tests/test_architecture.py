"""The core stays importable without a terminal: checked by import-linter and in a process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def test_core_modules_load_without_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, rps_tui.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'rps_tui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'textual'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_dashboard_starts_without_the_plotting_library() -> None:
    """textual-plot and numpy add a tenth of a second to the start-up; they are loaded
    when a plot is opened (`g`), not with the app; tomlkit (8 ms) when a message is saved."""
    code = (
        "import sys, rps_tui.cli, rps_tui.ui.app, rps_tui.ui.keymap as k\n"
        "k.conflict({'pause': 'space'}), k.binding_ids()\n"  # the CLI checks the keymap
        "late = {'numpy', 'textual_plot', 'tomlkit'}\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & late))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_every_engine_offers_the_subscriber_interface() -> None:
    """One interface (`core/subscriber/base.py`) for one server, a cluster, Sentinel and a
    recording: every member the protocol names exists on each, with a callable where the
    protocol has a method."""
    import inspect

    from rps_tui.core.connection.settings import ConnectionSettings
    from rps_tui.core.recording.offline import OfflineEngine
    from rps_tui.core.store import Store
    from rps_tui.core.subscriber.base import Subscriber
    from rps_tui.core.subscriber.cluster import ClusterEngine
    from rps_tui.core.subscriber.engine import Engine
    from rps_tui.core.subscriber.sentinel import SentinelEngine
    from rps_tui.core.subscriber.sentinel_watch import SentinelWatch

    members = {
        name
        for name in [*Subscriber.__dict__, *Subscriber.__annotations__]
        if not name.startswith("_")
    }
    methods = {n for n in members if inspect.isfunction(Subscriber.__dict__.get(n))}
    assert {"subscribe", "run", "stop", "store", "state", "busy", "sink"} <= members
    store = Store()
    engines = [
        Engine(ConnectionSettings(), store),
        ClusterEngine(ConnectionSettings(cluster=True), store),
        SentinelEngine(ConnectionSettings(sentinels=(("127.0.0.1", 1),), master="m"), store),
        SentinelWatch(ConnectionSettings(sentinels=(("127.0.0.1", 1),), master="m"), store),
        OfflineEngine(store, "x.ndjson"),
    ]
    for engine in engines:
        missing = sorted(n for n in members if not hasattr(engine, n))
        assert not missing, (type(engine).__name__, missing)
        for name in methods:
            assert callable(getattr(engine, name)), (type(engine).__name__, name)


def test_tests_share_helpers_through_support_and_scripts_need_no_path_edits() -> None:
    """Shared helpers live in tests/support/ (a test module imported by another runs its
    tests twice and hides what is shared); benchmarks and scripts run as modules
    (`python -m benchmarks.drain`), so none edits sys.path to find the package."""
    offenders = []
    imports = re.compile(r"^\s*(from|import) tests\.test_", re.MULTILINE)
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if imports.search(path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    for folder in ("benchmarks", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if re.search(r"sys\.path\.(insert|append)", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_every_import_of_the_package_names_something_that_exists() -> None:
    """Scripts and benchmarks import inside functions and run in subprocesses that the suite
    does not start: an import left behind by a move only fails there, silently (a benchmark
    consumer sent its ImportError to /dev/null and the benchmark timed out). Check every
    `from rps_tui... import name` in the repository against the package."""
    import ast
    import importlib

    missing = []
    for folder in ("rps_tui", "tests", "benchmarks", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                    "rps_tui"
                ):
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ImportError:
                            missing.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
    assert missing == []
