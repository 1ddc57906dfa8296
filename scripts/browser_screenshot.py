"""Save ``screenshots/serve.png``: the dashboard in a browser, as ``rps-tui serve --demo``
serves it, photographed by Debian's headless Chromium (Playwright) at 1280x800.

Run it from the repository root with ``python -m scripts.browser_screenshot`` (about 15 s).
It needs ``chromium`` on PATH (``apt-get install chromium``) and Playwright (``.[test]``);
no browser is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support.browser import Serve, browser, open_page, wait_for_text

OUT = Path(__file__).resolve().parent.parent / "screenshots" / "serve.png"
SETTLE_MS = 8_000  # the demo's traffic fills the chart and the channel table meanwhile


def main() -> int:
    with Serve("--demo") as served, browser() as chromium:
        page = open_page(chromium, f"{served.base}/")
        wait_for_text(page, "demo.orders.*", "● connected", timeout=30)
        page.wait_for_timeout(SETTLE_MS)
        page.screenshot(path=str(OUT))
    print(f"wrote {OUT.relative_to(Path.cwd()) if OUT.is_relative_to(Path.cwd()) else OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
