"""Utilities: input validation and helpers shared by skmer's modules."""

from skmer.utils._tags import SkmerTags, get_skmer_tags, with_skmer_tags
from skmer.utils.validation import check_clips

__all__ = ["SkmerTags", "check_clips", "get_skmer_tags", "with_skmer_tags"]
