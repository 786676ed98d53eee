"""Turn a configuration error at start-up into one line instead of a traceback."""

import sys
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


def or_exit(load: Callable[[], T]) -> T:
    """Run `load`; on ImproperlyConfigured print its reason on one line and exit 2."""
    try:
        return load()
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        raise SystemExit(2) from None
