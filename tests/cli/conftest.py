"""Fixtures for the command-line contract tests: they live in ``harness.py``."""

import pytest

pytest.register_assert_rewrite("tests.cli.harness", "cli.harness")

from .harness import clean_environment, cli, practice, practice_template  # noqa: E402, F401
