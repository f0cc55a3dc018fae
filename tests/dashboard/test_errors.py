"""No stack trace on any page: a bad link, a tampered cursor, an error inside a page or a
bad PREFLENS_* setting each show one short message; data names with line breaks cannot
become Markdown headings."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from dashboard import frames, ui
from dashboard.launch import ERROR_DETAILS, streamlit_command

HUGE = "999999999999999999999999"


def shown(at) -> str:
    """Every message and text of the page, as one string."""
    parts = [e.value for e in (*at.error, *at.warning, *at.info, *at.exception)]
    parts += [m.value for m in at.markdown] + [t.value for t in at.text]
    return "\n".join(str(p) for p in parts)


def assert_no_trace(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = shown(at)
    assert "Traceback" not in text and 'File "' not in text
    assert "/work/" not in text and "site-packages" not in text


def forged_cursor(**payload) -> str:
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_the_launcher_and_the_app_turn_error_details_off():
    import streamlit.config as st_config

    cmd = streamlit_command("127.0.0.1", 8501)
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    # "none": Streamlit's generic line only ("false" is legacy and still shows the trace).
    assert flags["--client.showErrorDetails"] == ERROR_DETAILS == "none"
    assert ERROR_DETAILS in {o.value for o in st_config.ShowErrorDetailsConfigOptions}


@pytest.mark.parametrize("case", [HUGE, "-3", "0", "1e400", str(2**63)])
def test_a_bad_case_id_in_a_link_falls_back_to_the_list(dash, open_page, case):
    at = open_page("cases", {"run": str(dash.base.score_run), "case": case})
    assert_no_trace(at)
    assert "case" not in at.query_params
    assert [m for m in at.markdown if m.value.startswith("**Pair ")]  # the list of cases


def test_a_missing_case_is_a_short_message(dash, open_page):
    at = open_page("cases", {"run": str(dash.base.score_run), "case": str(2**63 - 1)})
    assert_no_trace(at)
    (warning,) = at.warning
    assert "no pair" in warning.value and len(warning.value) < 200


def test_a_huge_run_id_in_a_link_falls_back_to_a_run(dash, open_page):
    at = open_page("cases", {"run": HUGE, "case": HUGE})
    assert_no_trace(at)


@pytest.mark.parametrize(
    "cursor",
    [
        forged_cursor(k=1e300, id=10**30, f="x"),
        forged_cursor(k="nan", id=1, f="x"),
        forged_cursor(k=0.5, id=-1),
        "A" * 5000,
        "%00%ff",
    ],
    ids=["huge-id", "nan-key", "no-fingerprint", "long", "bytes"],
)
def test_a_tampered_cursor_is_a_short_message(dash, open_page, cursor):
    at = open_page("cases", {"run": str(dash.base.score_run), "cursor": cursor, "page": "2"})
    assert_no_trace(at)
    assert at.warning or at.error
    assert all(len(w.value) < 400 for w in (*at.error, *at.warning))


def test_an_unexpected_error_in_a_page_is_one_generic_line_and_logged(
    dash, open_page, monkeypatch, caplog
):
    from dashboard import data

    def broken(*args, **kwargs):
        raise RuntimeError("disk I/O error at /srv/preflens/secret.db")

    monkeypatch.setattr(data, "cases", broken)
    with caplog.at_level(logging.ERROR, logger="dashboard"):
        at = open_page.unchecked("cases", {"run": str(dash.base.score_run)})
    assert_no_trace(at)
    assert [e.value for e in at.error] == [ui.UNEXPECTED]
    assert "/srv/preflens" not in shown(at)
    # ... and the server's log has the whole story.
    (record,) = [r for r in caplog.records if r.name == "dashboard"]
    assert record.exc_info and "secret.db" in str(record.exc_info[1])


def test_a_domain_error_in_a_page_shows_its_own_message(dash, open_page, monkeypatch):
    from dashboard import data
    from preflens.errors import NotFoundError

    def missing(*args, **kwargs):
        raise NotFoundError("no run with id 12 [see](javascript:alert(1))")

    monkeypatch.setattr(data, "run_summary", missing)
    at = open_page.unchecked("reward_model")
    assert_no_trace(at)
    (error,) = at.error
    assert error.value.startswith("no run with id 12")
    assert "\\[see\\]" in error.value  # escaped: it may echo a value from the address


@pytest.mark.parametrize(
    "variable",
    ["API_PORT=abc", "CORS_ORIGINS=[oops", "DATABASE_URL=notaurl", "API_POLICIES=notjson"],
)
def test_a_bad_setting_is_one_line_instead_of_any_page(app_env, monkeypatch, variable):
    """The settings are checked before the router runs, so no page is reached."""
    from streamlit.testing.v1 import AppTest

    from preflens.config import get_settings
    from tests.dashboard.conftest import APP

    name, value = variable.split("=", 1)
    monkeypatch.setenv(f"PREFLENS_{name}", value)
    get_settings.cache_clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert_no_trace(at)
    (error,) = at.error
    assert error.value.startswith(f"error: bad setting: PREFLENS_{name}: expected ")
    assert "\n" not in error.value


def test_line_breaks_in_data_names_cannot_make_markdown_headings():
    for text in ("x\n===\n", "a\r\n# b", "a\u2028- b", "x\n---", "tab\there"):
        escaped = frames.md_escape(text)
        assert not any(ch in escaped for ch in "\n\r\u2028"), escaped
        assert "\\\\n" in escaped or "\t" in text


def test_a_category_with_line_breaks_stays_on_its_line(store, dash, open_page):
    from db.schema import Pair

    with store() as s:
        s.get(Pair, dash.xss_pair).category = "x\n===\n"
        s.commit()
    at = open_page("cases", {"run": str(dash.base.score_run), "case": str(dash.xss_pair)})
    assert_no_trace(at)
    headers = [m.value for m in at.markdown if m.value.startswith(f"**Pair {dash.xss_pair}**")]
    details = [m.value for m in at.markdown if m.value.startswith("dataset ")]
    assert headers and details
    for line in headers + details:
        assert "\n" not in line and "category x\\\\n\\=\\=\\=\\\\n" in line
