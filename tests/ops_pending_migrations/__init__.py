"""The ops app's real migrations plus one that no database has applied, for
tests/test_readyz.py (which points MIGRATION_MODULES["ops"] here).

The package's path includes council/ops/migrations, so the loader finds the real ones too.
"""

from pathlib import Path

import council.ops.migrations

REAL = Path(council.ops.migrations.__file__).parent
__path__.append(str(REAL))  # noqa: F821 (a package's __path__)
