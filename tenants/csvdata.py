"""Reading the project's reference CSV files: `#` lines at the top cite origin and licence."""

import csv
from collections.abc import Iterator
from pathlib import Path


def read_reference_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for each data row, skipping the `#` header comments."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = ((number, line) for number, line in enumerate(handle, start=1) if not line.startswith("#"))
        numbered = list(lines)
    reader = csv.DictReader(line for _number, line in numbered)
    # DictReader consumes the header first; data row k sits at numbered[k].
    for index, row in enumerate(reader, start=1):
        yield numbered[index][0], {key: (value or "").strip() for key, value in row.items()}
