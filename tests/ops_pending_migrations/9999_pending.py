from pathlib import Path

from django.db import migrations

import council.ops.migrations

_real = sorted(p.stem for p in Path(council.ops.migrations.__file__).parent.glob("[0-9]*.py"))


class Migration(migrations.Migration):
    dependencies = [("ops", _real[-1])]
    operations = []
