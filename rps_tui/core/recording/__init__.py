"""Recordings: the NDJSON format, the recorder (a subscriber's sink), replaying a
recording, and browsing one offline.
"""
