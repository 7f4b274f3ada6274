"""Utilities: input validation and helpers shared by skmer's modules."""

from skmer.utils.validation import check_clips

__all__ = ["check_clips"]
