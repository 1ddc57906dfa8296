"""`python -m rps_tui` runs the same entry point as the `rps-tui` script."""

from rps_tui.cli import main

raise SystemExit(main())
