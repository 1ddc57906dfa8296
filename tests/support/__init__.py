"""Test support code that is bigger than a helper: the fault-injecting TCP proxy."""
