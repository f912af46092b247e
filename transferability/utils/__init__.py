"""Input validation, array backends and the shared numerics (:mod:`.numerics`)."""

from .validation import InputError, check_domain, check_magnitude, check_pair

__all__ = ["InputError", "check_domain", "check_magnitude", "check_pair"]
