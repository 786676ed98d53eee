#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from council.startup import or_exit

    # Load settings up front so a missing SECRET_KEY is one line, not a traceback.
    or_exit(lambda: settings.INSTALLED_APPS)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
