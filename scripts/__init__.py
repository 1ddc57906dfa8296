"""Maintenance scripts, each run as a module from the repository root:
`python -m scripts.export_screenshots`, `python -m scripts.local_topology cluster`."""
