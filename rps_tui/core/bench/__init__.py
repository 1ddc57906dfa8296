"""`rps-tui bench`: publishers and subscribers in their own processes, counting loss,
duplicates and end-to-end latency exactly."""
