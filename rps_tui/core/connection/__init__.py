"""Reaching a server: settings, errors, the cluster map, Sentinel discovery, and the
command client (probe, INFO, CLIENT LIST, PUBLISH). Nothing here subscribes.
"""
