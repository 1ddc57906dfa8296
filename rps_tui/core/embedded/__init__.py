"""Real Valkey/Redis processes on loopback (for `--demo`, the tests and the
benchmarks) and the demo's traffic.
"""
