"""Hypothesis profiles for the suite; shared helpers live in helpers.py."""

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=150, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
