"""Fixtures for the error reproducers: they live in ``tests/cli/harness.py``."""

import pytest

pytest.register_assert_rewrite(
    "tests.cli.harness", "cli.harness", "tests.errors.reproduce", "errors.reproduce"
)

from .reproduce import harness  # noqa: E402

clean_environment = harness.clean_environment
cli = harness.cli
practice = harness.practice
practice_template = harness.practice_template
