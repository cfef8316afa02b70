"""The report pages and ``/api/v1/reports/{name}``: the API answers what ``report NAME
--format json`` prints; a page, its CSV and its PDF show the same totals; a bad filter is
refused by name with what was typed kept; favourites saved on a page are the command
line's; charts are drawn on the pages that have them; each report needs its own action."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from tests.cli.harness import Cli, db_url

from clinicledger.domain.permissions import Role

B, M = Role.BILLING, Role.MANAGER
needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


@pytest.fixture
def cli(desk, capsys, monkeypatch) -> Cli:
    """The command line over the same ledger, its clock after the app's (11:00, Sydney)."""
    return Cli(db_url(desk), capsys, monkeypatch, start=dt.datetime(2024, 3, 2, 12, 0))


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode()


def dollars(text: str) -> Decimal:
    """``$1,234.50`` or ``($30.00)`` (the accounting style) as a Decimal."""
    negative = text.startswith("(")
    value = Decimal(text.strip("()").replace("$", "").replace(",", ""))
    return -value if negative else value


def page_totals(body: str) -> dict[str, Decimal]:
    """The first part's totals on a report page: label -> amount."""
    return {
        html.unescape(label): dollars(html.unescape(value))
        for label, value in re.findall(r'data-total="([^"]+)">([^<]+)<', body)
    }


def csv_rows(text: str) -> list[dict[str, str]]:
    first = text.split("\n\n")[0]
    return list(csv.DictReader(io.StringIO(first)))


def test_the_list_shows_only_the_reports_the_role_may_run(browser) -> None:
    billing = browser(B).get("/reports").text
    manager = browser(M).get("/reports").text
    assert 'href="/reports/debtors"' in billing and 'href="/reports/debtors"' in manager
    assert 'href="/reports/income-by-provider"' not in billing
    assert 'href="/reports/income-by-provider"' in manager
    assert 'href="/reports"' in billing  # in the navigation
    assert browser(Role.RECEPTION).get("/reports").status_code == 403


def test_income_per_provider_is_the_managers(browser, api) -> None:
    asked = "?from=2024-03-01&to=2024-03-31"
    assert browser(B).get("/reports/income-by-provider" + asked).status_code == 403
    assert browser(B).get("/reports/income-by-provider.csv" + asked).status_code == 403
    refused = api(B).get("/api/v1/reports/income-by-provider" + asked)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert api(M).get("/api/v1/reports/income-by-provider" + asked).status_code == 200


@pytest.mark.parametrize(
    ("name", "params", "argv"),
    [
        ("debtors", {}, ()),
        (
            "debtors",
            {"detail": "detailed", "interval_days": "60"},
            ("--detail", "detailed", "--interval-days", "60"),
        ),
        (
            "receipts",
            {"from": "2024-03-01", "to": "2024-03-31"},
            ("--from", "2024-03-01", "--to", "2024-03-31"),
        ),
        (
            "receipts",
            {"preset": "this-month", "by_provider": "true"},
            ("--preset", "this-month", "--by-provider"),
        ),
        ("income-by-provider", {"preset": "this-month"}, ("--preset", "this-month")),
        (
            "income-by-provider",
            {"from": "2024-03-01", "to": "2024-03-31", "basis": "snapshot"},
            ("--from", "2024-03-01", "--to", "2024-03-31", "--basis", "snapshot"),
        ),
        (
            "aging-trend",
            {"from": "2024-01-01", "to": "2024-04-30"},
            ("--from", "2024-01-01", "--to", "2024-04-30"),
        ),
        ("unallocated", {"as_of": "2024-03-01"}, ("--as-of", "2024-03-01")),
        (
            "finance-summary",
            {"preset": "this-financial-year", "group": "patient"},
            ("--preset", "this-financial-year", "--group", "patient"),
        ),
        (
            "adjustments",
            {"from": "2024-03-01", "to": "2024-03-02"},
            ("--from", "2024-03-01", "--to", "2024-03-02"),
        ),
    ],
)
def test_an_api_report_is_the_command_lines_json(api, cli, name, params, argv) -> None:
    answer = api(M).get(f"/api/v1/reports/{name}", params=params)
    assert answer.status_code == 200, answer.text
    printed = cli("report", name, *argv, "--format", "json")
    assert (printed.status, printed.err) == (0, ""), printed
    found, expected = answer.json(), printed.json()
    # a warning is the report's words; each door adds its own way out (the command line's
    # names a command: cli/reports.WARNING_HINTS)
    said, hinted = found.pop("warnings"), expected.pop("warnings")
    assert found == expected
    assert all(h.startswith(w) for w, h in zip(said, hinted, strict=True))
    assert found["rows"] or found.get("sections") or name == "adjustments"


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"from": "2024-13-01", "to": "2024-03-31"}, "from", "date_malformed"),
        ({"preset": "next-year"}, "preset", "choice_unknown"),
        ({"as_of": "2024-03-01"}, "as_of", "filter_not_applicable"),
        ({"nonsense": "1"}, "nonsense", "filter_not_applicable"),
        (
            {"from": "2024-03-01", "to": "2024-03-31", "by_provider": "maybe"},
            "by_provider",
            "option_malformed",
        ),
    ],
)
def test_the_api_refuses_a_bad_filter_by_name(api, params, field, code) -> None:
    answer = api(M).get("/api/v1/reports/receipts", params=params)
    assert answer.status_code == 422, answer.text
    assert (answer.json()["error"]["field"], answer.json()["error"]["code"]) == (field, code)


def test_an_unknown_report(api, browser) -> None:
    answer = api(M).get("/api/v1/reports/nothing")
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "report_unknown")
    assert browser(M).get("/reports/nothing").status_code == 404


def test_a_bad_date_is_refused_beside_its_field_and_kept(browser) -> None:
    answer = browser(B).get("/reports/receipts?preset=&from=2024-02-30&to=2024-03-31&location=MAIN")
    assert answer.status_code == 422
    body = answer.text
    assert 'aria-invalid="true" aria-describedby="from-error"' in body
    assert "&#39;2024-02-30&#39; is not a date (YYYY-MM-DD)" in body
    assert 'value="2024-02-30"' in body and 'value="2024-03-31"' in body and 'value="MAIN"' in body
    assert 'id="from"' in body and "autofocus" in body.split('id="from"')[1].split(">")[0]
    assert "data-total" not in body  # no result under a refused form


def test_an_unknown_code_and_a_reversed_range_are_refused(browser) -> None:
    unknown = browser(B).get("/reports/debtors?location=NOWHERE")
    assert unknown.status_code == 404 and 'value="NOWHERE"' in unknown.text
    reversed_ = browser(B).get("/reports/receipts?from=2024-03-31&to=2024-03-01")
    assert reversed_.status_code == 422 and 'data-refused="range_reversed"' in reversed_.text


def test_a_range_report_opens_on_this_month(browser) -> None:
    body = browser(B).get("/reports/receipts").text
    assert '<option value="this-month" selected>' in body
    assert "2024-03-01" in body and "2024-03-31" in body  # the preset, worked out
    totals = page_totals(body)
    assert totals["Amount"] == Decimal("140.00")  # 30 + 50 + 40 - 40 reversed + 60 (harness)


def test_the_page_csv_and_json_hold_the_same_debtors(browser, api) -> None:
    page = browser(B).get("/reports/debtors?as_of=2024-03-02")
    assert page.status_code == 200, page.text
    shown = page_totals(page.text)
    rows = csv_rows(browser(B).get("/reports/debtors.csv?as_of=2024-03-02").text)
    data = api(B).get("/api/v1/reports/debtors", params={"as_of": "2024-03-02"}).json()
    assert (
        shown["Total"] == sum(Decimal(r["total"]) for r in rows) == Decimal(data["totals"]["total"])
    )
    assert shown["Total"] == Decimal("205.00")  # P1 105.00 + FUND1 100.00
    for row in data["rows"]:
        assert row["total"] in {r["total"] for r in rows}


@needs_pdftotext
def test_the_pdf_holds_the_pages_totals_under_a_header(browser) -> None:
    asked = "?as_of=2024-03-02&as_known_at=2024-03-02T10:00"
    page = browser(B).get("/reports/debtors" + asked)
    answer = browser(B).get("/reports/debtors.pdf" + asked)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'attachment; filename="debtors.pdf"'
    text = pdf_text(answer.content)
    assert "Debtors" in text
    assert "As of 2024-03-02" in re.sub(r"\s+", " ", text)
    assert "As known at 2 Mar 2024, 10:00:00" in re.sub(r"\s+", " ", text)
    for label, amount in page_totals(page.text).items():
        figure = f"${amount:,.2f}" if amount >= 0 else f"(${-amount:,.2f})"
        assert re.search(rf"{re.escape(label)}\s+{re.escape(figure)}", text), (label, figure)


def test_a_pdf_of_more_rows_than_paper_holds_is_refused_in_words(browser, monkeypatch) -> None:
    from clinicledger.render import pdf

    monkeypatch.setattr(pdf, "PDF_ROWS_MAX", 1)  # debtors as of 2024-03-02: P1 and FUND1
    answer = browser(B).get("/reports/debtors.pdf?as_of=2024-03-02")
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "a PDF holds at most 1 rows and this report has 2" in html.unescape(answer.text)


@pytest.mark.parametrize(
    ("name", "asked", "title", "legend"),
    [
        (
            "aging-trend",
            "?from=2024-01-01&to=2024-04-30",
            "Receivables by age at each month end",
            "0-29 days",
        ),
        ("receipts", "?from=2024-03-01&to=2024-03-31", "Receipts by payment method", "received"),
        (
            "income-by-provider",
            "?from=2024-02-01&to=2024-03-31",
            "Income by provider per month",
            "Dr Rowan Vale",
        ),
    ],
)
def test_charts_are_drawn_on_the_server_as_svg(browser, name, asked, title, legend) -> None:
    body = browser(M).get(f"/reports/{name}{asked}").text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in body
    chart = body.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert f"<title>{title}</title>" in chart and legend in chart
    assert "<rect" in chart and "style=" not in chart and "<script" not in body


def test_income_by_month_charts_each_months_income(browser) -> None:
    body = browser(M).get("/reports/income-by-provider?from=2024-02-01&to=2024-03-31").text
    chart = body.split("<svg", 1)[1].split("</svg>", 1)[0]
    # the harness's income is in March: 20.00 applied to DR1's line (5.00 applied and undone)
    assert "<title>Mar 2024: Dr Rowan Vale $20.00</title>" in chart
    assert "Feb 2024: Dr Rowan Vale" not in chart


def test_no_report_page_has_inline_script_or_style(browser) -> None:
    manager = browser(M)
    for path in (
        "/reports",
        "/reports/debtors",
        "/reports/aging-trend?from=2024-01-01&to=2024-03-31",
    ):
        body = manager.get(path).text
        assert "<script" not in body and "<style" not in body and "style=" not in body, path


def test_a_favourite_saved_on_the_page_is_the_command_lines(browser, cli) -> None:
    billing = browser(B)
    saved = billing.post(
        "/reports/receipts/favourites",
        {"name": "month-receipts", "preset": "this-month", "by": "entered", "location": "MAIN"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/reports/receipts?")
    shown = billing.get(saved.headers["location"]).text
    assert "Saved as the favourite “month-receipts”" in shown
    listed = cli.ok("report", "favourites")["favourites"]
    assert listed == [
        {
            "name": "month-receipts",
            "report": "receipts",
            "format": "table",
            "settings": {"by": "entered", "location": "MAIN", "preset": "this-month"},
        }
    ]
    assert 'href="/reports/favourites/month-receipts"' in billing.get("/reports").text
    opened = billing.get("/reports/favourites/month-receipts")
    assert opened.status_code == 303
    page = billing.get(opened.headers["location"]).text
    assert '<option value="this-month" selected>' in page and 'value="MAIN"' in page
    from_cli = cli.ok("report", "run", "month-receipts")
    assert page_totals(page)["Amount"] == Decimal(from_cli["totals"]["amount"])


def test_a_favourite_can_open_as_its_download(browser, cli) -> None:
    manager = browser(M)
    form = manager.get("/reports/debtors").text
    assert '<option value="pdf">A PDF download</option>' in form
    saved = manager.post(
        "/reports/debtors/favourites",
        {"name": "owing-csv", "as_of": "2024-03-01", "format": "csv"},
    )
    assert saved.status_code == 303
    listed = {f["name"]: f["format"] for f in cli.ok("report", "favourites")["favourites"]}
    assert listed == {"owing-csv": "csv"}
    opened = manager.get("/reports/favourites/owing-csv")
    assert opened.headers["location"].startswith("/reports/debtors.csv?")
    download = manager.get(opened.headers["location"])
    assert download.headers["content-type"].startswith("text/csv")
    assert download.text == manager.get("/reports/debtors.csv?as_of=2024-03-01").text
    # an unknown way of opening is refused beside its list, and nothing is kept
    refused = manager.post(
        "/reports/debtors/favourites", {"name": "owing-odd", "as_of": "2024-03-01", "format": "x"}
    )
    assert refused.status_code == 422
    assert 'aria-describedby="format-error"' in refused.text
    assert [f["name"] for f in cli.ok("report", "favourites")["favourites"]] == ["owing-csv"]


def test_a_favourites_name_taken_or_malformed_is_refused_beside_it(browser) -> None:
    billing = browser(B)
    assert billing.post("/reports/debtors/favourites", {"name": "owing"}).status_code == 303
    again = billing.post("/reports/debtors/favourites", {"name": "owing", "as_of": "2024-03-01"})
    assert again.status_code == 409
    assert 'aria-describedby="name-error"' in again.text and "already exists" in again.text
    assert 'value="2024-03-01"' in again.text  # the filters kept
    bad = billing.post("/reports/debtors/favourites", {"name": "two words"})
    assert bad.status_code == 422 and 'aria-describedby="name-error"' in bad.text
    missing = browser(B).get("/reports/favourites/nothing")
    assert missing.status_code == 404


@needs_pdftotext
def test_the_command_line_prints_a_report_as_pdf(cli, browser, tmp_path) -> None:
    target = tmp_path / "receipts.pdf"
    done = cli("report", "receipts", "--from", "2024-03-01", "--to", "2024-03-31",
               "--format", "pdf", "--output", str(target))  # fmt: skip
    assert (done.status, done.out, done.err) == (0, "", "")
    text = re.sub(r"\s+", " ", pdf_text(target.read_bytes()))
    page = browser(B).get("/reports/receipts?from=2024-03-01&to=2024-03-31").text
    assert page_totals(page)["Amount"] == Decimal("140.00")
    assert text.count("Amount $140.00") == 2  # the receipts, and their totals by method
    assert "Receipts by payment method" in text  # the chart, as on the page
    assert "From date 2024-03-01" in text and "To date 2024-03-31" in text


def test_a_pdf_is_not_written_to_a_terminal(cli, monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    refused = cli("--json", "report", "debtors", "--format", "pdf")
    assert refused.status == 2
    assert '"code": "output_unwritable", "field": "output"' in refused.err


def test_a_long_report_shows_its_first_rows_and_every_total(browser, monkeypatch) -> None:
    from clinicledger.web.pages import reports as page

    monkeypatch.setattr(page, "PAGE_ROWS", 2)
    body = browser(B).get("/reports/receipts?from=2024-03-01&to=2024-03-31").text
    listing = body.split('data-part="receipts"', 1)[1].split("</table>", 1)[0]
    assert listing.count("<tr>") == 3  # the header and two rows
    assert "… and 3 more rows: the CSV and the PDF hold every one." in body
    assert page_totals(body)["Amount"] == Decimal("140.00")
    csv_text = browser(B).get("/reports/receipts.csv?from=2024-03-01&to=2024-03-31").text
    assert len(csv_rows(csv_text)) == 5


def test_the_filters_offer_the_practices_codes(browser) -> None:
    body = browser(B).get("/reports/receipts?from=2024-03-01&to=2024-03-31").text
    assert (
        'list="location-codes"' in body
        and '<option value="MAIN">Main Street Rooms</option>' in body
    )
    assert '<option value="DR1">Dr Rowan Vale</option>' in body
    assert 'list="patient-codes"' not in body  # receipts take no patient


def test_a_favourite_keeps_its_moment_and_its_flags(browser, api) -> None:
    manager = browser(M)
    saved = manager.post(
        "/reports/debtors/favourites",
        {"name": "known", "as_known_at": "2024-03-01T10:00", "separate_locations": "true"},
    )
    assert saved.status_code == 303, saved.text
    opened = manager.get("/reports/favourites/known")
    page = manager.get(opened.headers["location"]).text
    asked = {"as_known_at": "2024-03-01T10:00", "separate_locations": "true"}
    direct = api(M).get("/api/v1/reports/debtors", params=asked).json()
    assert direct["parameters"]["as_known_at"] == "2024-03-01T10:00:00+11:00"
    assert "as known at 2024-03-01T10:00:00+11:00" in page
    assert 'name="separate_locations" value="true" checked' in page
    assert page_totals(page)["Total"] == Decimal(direct["totals"]["total"])


def test_the_apis_favourites_are_the_command_lines(api, cli) -> None:
    billing = api(B)
    asked = {"preset": "this-month", "by": "entered", "location": "MAIN"}
    saved = billing.post(
        "/api/v1/reports/favourites",
        json={"name": "month-receipts", "report": "receipts", "parameters": asked},
    )
    assert saved.status_code == 201, saved.text
    from_cli = cli.ok(
        "report", "save", "cli-receipts", "receipts",
        "--preset", "this-month", "--by", "entered", "--location", "MAIN",
    )  # fmt: skip
    assert saved.json() == {**from_cli, "saved": "month-receipts"}
    listed = billing.get("/api/v1/reports/favourites")
    assert listed.status_code == 200
    assert listed.json() == cli.ok("report", "favourites")
    assert [f["name"] for f in listed.json()["favourites"]] == ["cli-receipts", "month-receipts"]
    run = billing.get("/api/v1/reports/favourites/month-receipts")
    assert run.status_code == 200, run.text
    assert run.json() == cli.ok("report", "run", "month-receipts", "--format", "json")
    assert run.json() == billing.get("/api/v1/reports/receipts", params=asked).json()


@pytest.mark.parametrize(
    ("body", "status", "refused"),
    [
        ({"name": "owing", "report": "debtors"}, 409, ("favourite_taken", "name")),
        ({"name": "two words", "report": "debtors"}, 422, ("code_malformed", "name")),
        ({"name": "x", "report": "debtors", "parameters": {"as_of": "1/3/24"}}, 422,
         ("date_malformed", "as_of")),
        ({"name": "x", "report": "debtors", "format": "odd"}, 422, ("choice_unknown", "format")),
        ({"name": "x", "report": "nothing"}, 422, ("report_unknown", "report")),
        ({"name": "x", "report": "income-by-provider"}, 403, ("forbidden", None)),
    ],
)  # fmt: skip
def test_a_favourite_refused_by_the_api_is_not_kept(api, body, status, refused) -> None:
    assert (
        api(B)
        .post("/api/v1/reports/favourites", json={"name": "owing", "report": "debtors"})
        .status_code
        == 201
    )
    answer = api(B).post("/api/v1/reports/favourites", json=body)
    assert answer.status_code == status, answer.text
    assert (answer.json()["error"]["code"], answer.json()["error"]["field"]) == refused
    kept = api(B).get("/api/v1/reports/favourites").json()["favourites"]
    assert [f["name"] for f in kept] == ["owing"]


def test_a_favourite_run_by_the_api_needs_its_reports_action(api) -> None:
    saved = api(M).post(
        "/api/v1/reports/favourites",
        json={"name": "by-provider", "report": "income-by-provider",
              "parameters": {"from": "2024-03-01", "to": "2024-03-31"}},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text
    assert api(M).get("/api/v1/reports/favourites/by-provider").status_code == 200
    refused = api(B).get("/api/v1/reports/favourites/by-provider")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    missing = api(B).get("/api/v1/reports/favourites/nothing")
    assert (missing.status_code, missing.json()["error"]["field"]) == (404, "name")


def test_the_debtors_credit_warning_points_to_the_patients_accounts(browser, api) -> None:
    page = browser(B).get("/reports/debtors").text
    warning = page.split('<p class="warning" role="note">')[1].split("</p>")[0]
    assert "of unapplied credit" in warning
    assert '<a href="/patients">account page</a>: Apply credit' in warning
    assert "clinicledger" not in warning  # the command line's hint is the command line's
    answer = api(B).get("/api/v1/reports/debtors").json()
    assert len(answer["warnings"]) == 1 and "of unapplied credit" in answer["warnings"][0]
    assert "account page" not in answer["warnings"][0]  # the report names no door
