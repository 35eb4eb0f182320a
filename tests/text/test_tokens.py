"""Tokenisation beyond English: Persian and Arabic letter variants, diacritics, digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel.errors import SchemaError
from cxmodel.text import STOP_WORDS, normalize, stop_words, tokenize

PERSIAN = [
    "سفارش من هنوز نرسیده و پشتیبانی جواب نمی‌دهد",
    "کیفیت محصول خیلی خوب بود، ممنون!",
    "۳ روز است که منتظر بازپرداخت هستم",
]
ARABIC = [
    "لم يصلني الطلب حتى الآن، وخدمة العملاء لا ترد",
    "الْمُنْتَجُ مُمْتَازٌ وَالتَّوْصِيلُ سَرِيعٌ",
    "أريد استرداد المبلغ خلال ٣ أيام",
]


@pytest.mark.parametrize("text", PERSIAN + ARABIC)
def test_persian_and_arabic_tokenise(text: str) -> None:
    tokens = tokenize(text)
    assert tokens and all(t.strip() and not any(c in t for c in "،,!.") for t in tokens)
    assert tokenize(" ".join(tokens)) == tokens  # normalisation is idempotent


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("كتاب", "کتاب"),  # Arabic kaf / Persian keheh
        ("علي", "علی"),  # Arabic yeh / Persian yeh
        ("مصطفى", "مصطفی"),  # alef maksura / Persian yeh
        ("بـــازپـرداخت", "بازپرداخت"),  # tatweel
        ("الْمُنْتَجُ", "المنتج"),  # harakat
        ("أحمد", "احمد"),  # hamza on alef
        ("إسلام", "اسلام"),  # hamza below alef
        ("آب", "اب"),  # madda
        ("مدرسة", "مدرسه"),  # teh marbuta / heh
        ("خانۀ", "خانه"),  # heh with yeh above
        ("می‌خواهم", "میخواهم"),  # zero-width non-joiner joins the word
        ("ﻛﺘﺎﺏ", "کتاب"),  # Arabic presentation forms
        ("۱۴۰۲", "1402"),  # Persian digits
        ("٢٠٢٤", "2024"),  # Arabic-Indic digits
    ],
)
def test_letter_variants_normalise_to_one_form(variant: str, canonical: str) -> None:
    assert tokenize(variant) == tokenize(canonical)
    assert normalize(variant) == normalize(canonical)


def test_latin_case_and_accents() -> None:
    assert tokenize("Crème BRÛLÉE, Straße!") == ["creme", "brulee", "strasse"]
    assert tokenize("customer's order isn’t here") == ["customers", "order", "isnt", "here"]
    assert tokenize("snake_case ＦＵＬＬ") == ["snake", "case", "full"]


def test_scripts_with_combining_marks_stay_whole() -> None:
    assert tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # Devanagari vowel signs kept
    assert tokenize("ภาษาไทย ok") == ["ภาษาไทย", "ok"]
    assert tokenize("退款没到") == ["退", "款", "没", "到"]


def test_stop_words() -> None:
    assert set(STOP_WORDS) == {"en", "fa", "ar"}
    assert (
        "the" in stop_words("en")
        and "در" in stop_words("fa")
        and normalize("في") in stop_words("ar")
    )
    assert stop_words() == STOP_WORDS["en"] | STOP_WORDS["fa"] | STOP_WORDS["ar"]
    # lists are normalised: Arabic "هي" is stored with Persian yeh
    assert normalize("هي") in stop_words("ar")
    assert tokenize("من در خانه هستم", stop_words=stop_words("fa")) == ["خانه", "هستم"]
    with pytest.raises(SchemaError, match="available"):
        stop_words("de")


@given(st.text())
def test_tokenize_never_fails(text: str) -> None:
    tokens = tokenize(text)
    assert all(t and t == t.casefold() for t in tokens)
    assert tokenize(None) == [] and tokenize("") == []
