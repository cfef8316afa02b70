#!/usr/bin/env bash
# Install everything and run every check: ruff, mypy, import contracts, and the test suite
# against SQLite and the PostgreSQL on 127.0.0.1:5432. Exits non-zero on any failure.
#
#   bash scripts/test.sh            the whole suite (what CI runs)
#   bash scripts/test.sh --quick    the quick loop: lint, then the unit, error,
#                                   command-line and web tests on SQLite only (under 2
#                                   minutes; no browser)
#   bash scripts/test.sh [--quick] PYTEST-ARGS...   passed on to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
if [[ "${1:-}" == "--quick" ]]; then
  quick=1
  shift
fi

python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'

# WeasyPrint's libraries (pango, and HarfBuzz's subsetter, without which WeasyPrint 70 warns
# on import and the tests' warnings-as-errors fail every PDF) for the PDFs, and poppler's
# pdftotext for the tests that read them back: Debian's packages, installed once when missing.
pdf_packages="poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
if ! command -v pdftotext >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q libpango-1.0 \
  || ! ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086  # the list splits into packages
    apt-get install -y -q $pdf_packages >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q $pdf_packages >/dev/null; }
  else
    echo "note: some of $pdf_packages are missing and cannot be installed here" \
      "(not root): the PDF tests skip or fail" >&2
  fi
fi

.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports

if (( quick )); then
  exec .venv/bin/python -m pytest -n 2 -q -k "not postgresql" \
    tests/unit tests/errors tests/cli tests/web "$@"
fi

# Debian's Chromium for the browser tests (tests/browser, Playwright driving it), installed
# once with the system's package manager, never a browser downloaded by Playwright.
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "note: /usr/bin/chromium is missing and cannot be installed here (not root):" \
      "the browser tests are skipped" >&2
  fi
fi

# PostgreSQL: start the local cluster if it is not running (this machine's start command).
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
export CLINICLEDGER_TEST_PG="${CLINICLEDGER_TEST_PG:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
export CLINICLEDGER_TEST_SLOW=1  # the whole suite, demo through the command line included

.venv/bin/python -m pytest -n 2 -q "$@"
