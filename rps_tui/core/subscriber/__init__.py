"""Reading Pub/Sub: the `Subscriber` interface, one engine per deployment (one server,
Sentinel, cluster), the read loop's intake, and why a connection was dropped.
"""
