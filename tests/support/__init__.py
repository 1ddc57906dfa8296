"""Shared code for the tests (and the benchmarks and scripts that reuse it); no tests here.

- app: build the dashboard on a real server, wait until subscriptions are active, read the pane
- certs: throwaway certificate authorities and certificates for the TLS tests
- cli: `python -m rps_tui ARGS` run to its end
- engine: an engine running in a thread for a test; a publisher flooding one channel
- proxy: the fault-injecting TCP proxy
- pty: `python -m rps_tui ARGS` in a real pseudo-terminal (the pty tests and benchmarks)
- recordings: a known recording made live, for the recording and replay tests
- screen: what must never be drawn raw; the screen and widgets read back as text
- servers: the server kinds, and skipping the ones this machine lacks
- strategies: Hypothesis strategies for hostile input, and their settings
- tail: `python -m rps_tui tail ARGS` with its output read into lines
- topology: Redis Cluster and Sentinel set-ups built from server binaries alone
- wait: bounded waiting for a condition
"""
