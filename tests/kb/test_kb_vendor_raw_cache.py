"""VendorResolver's raw-pair cache answers exactly what the cleaned lookup answers."""

from __future__ import annotations

from bot.kb.loader import default_knowledge
from bot.kb.normalize import clean


def test_raw_cache_gives_the_cleaned_answer_every_time() -> None:
    resolver = default_knowledge()._resolver
    sent = [("ABB", "Terra AC"), ("ＡＢＢ", None), ("  abb\u0000 ", "x"), ("NoSuchVendor", None),
            (None, None), ("Alfen BV", "NG9xx")]
    for vendor, model in sent:
        expected = resolver._resolve(clean(vendor, 255), clean(model, 100))
        assert resolver.resolve(vendor, model) == expected
        assert resolver.resolve(vendor, model) == expected  # from the raw-pair cache now
    assert resolver.resolve("ＡＢＢ") == resolver.resolve("ABB")
