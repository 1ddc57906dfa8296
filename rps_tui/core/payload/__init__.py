"""What a payload means: terminal-safe text, decoders, the pane's filter query, and
keyspace notifications. Pure functions of bytes; nothing here does I/O.
"""
