"""Redis, statistics, payloads and servers: everything that runs without a terminal."""
