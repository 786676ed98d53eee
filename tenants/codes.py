"""The 全国地方公共団体コード (local government code): five digits and a check digit.

The check digit is defined by the Ministry of Internal Affairs and Communications:
multiply the five digits by 6, 5, 4, 3, 2, sum, take the remainder modulo 11, subtract
it from 11 and keep the last digit.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOCAL_GOVERNMENT_CODE_RE = re.compile(r"^\d{6}$")
WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(first_five: str) -> int:
    total = sum(int(d) * w for d, w in zip(first_five, WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def validate_local_government_code(code: str) -> None:
    """Raise ValidationError unless `code` is six digits with a correct check digit."""
    if not LOCAL_GOVERNMENT_CODE_RE.match(code or ""):
        raise ValidationError(
            _("団体コード「%(code)s」は6桁の数字で入力してください。"),
            code="code_format",
            params={"code": code},
        )
    expected = check_digit(code[:5])
    if int(code[5]) != expected:
        raise ValidationError(
            _("団体コード「%(code)s」の検査数字が正しくありません（正しくは %(expected)s）。"),
            code="code_check_digit",
            params={"code": code, "expected": f"{code[:5]}{expected}"},
        )


def prefecture_code_of(code: str) -> str:
    """The code of the prefecture a local government code belongs to (e.g. 011002 → 010006)."""
    first_five = f"{code[:2]}000"
    return f"{first_five}{check_digit(first_five)}"


def is_prefecture_code(code: str) -> bool:
    return code[2:5] == "000"
