"""The browser tests build on the command-line and web harnesses: their assertions are
rewritten (registered before the tests import them)."""

import pytest

pytest.register_assert_rewrite("tests.cli.harness", "tests.web.harness")
