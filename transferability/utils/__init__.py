"""Input validation and array backends."""

from .validation import InputError, check_domain, check_pair

__all__ = ["InputError", "check_domain", "check_pair"]
