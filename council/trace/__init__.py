"""Traceability: from any object of a commonization effort, its whole chain on one page
(`/trace/<kind>/<pk>/`) and in the API (`/api/v1/trace/<kind>/<pk>/`). See chain.py."""

from council.trace.chain import KINDS, Trace, build_trace, resolve

__all__ = ["KINDS", "Trace", "build_trace", "resolve"]
