import pytest
from django.core.exceptions import ValidationError

from tenants.codes import check_digit, prefecture_code_of, validate_local_government_code


@pytest.mark.parametrize(
    "code",
    ["010006", "011002", "131016", "470007", "130001", "271004", "011011"],
)
def test_it_accepts_codes_with_a_correct_check_digit(code):
    validate_local_government_code(code)


@pytest.mark.parametrize("code", ["010007", "011003", "131010", "470000"])
def test_it_rejects_a_wrong_check_digit_and_names_the_right_code(code):
    with pytest.raises(ValidationError) as excinfo:
        validate_local_government_code(code)
    assert excinfo.value.code == "code_check_digit"
    assert f"{code[:5]}{check_digit(code[:5])}" in excinfo.value.messages[0]


@pytest.mark.parametrize("code", ["", "01100", "0110020", "01100a", "１１００２", " 011002"])
def test_it_rejects_anything_but_six_ascii_digits(code):
    with pytest.raises(ValidationError) as excinfo:
        validate_local_government_code(code)
    assert excinfo.value.code == "code_format"


def test_remainder_zero_gives_check_digit_one():
    # 6*0+5*0+4*2+3*1+2*0 = 11 → remainder 0 → 11 → last digit 1
    assert check_digit("00210") == 1


def test_it_derives_the_prefecture_of_a_municipality():
    assert prefecture_code_of("011002") == "010006"
    assert prefecture_code_of("131016") == "130001"
    assert prefecture_code_of("472018") == "470007"
