"""The split rule of the character datasets (kanjivg, hanzi_medians, hershey).

A character's split is a stable hash of the character itself, so that all its
drawings (KanjiVG variants, every Hershey font's glyph) land in the same split,
and a character found in several of these datasets is in the same split in each.

Example:
  >>> character_split("一"), character_split("三")
  ('train', 'validation')
"""

import hashlib

VALIDATION_PERCENT = 10  # Share of characters in the validation split.


def character_split(character: str) -> str:
    """``"validation"`` for about ``VALIDATION_PERCENT``% of characters, else ``"train"``."""
    bucket = int(hashlib.sha256(character.encode("utf-8")).hexdigest(), 16) % 100
    return "validation" if bucket < VALIDATION_PERCENT else "train"
