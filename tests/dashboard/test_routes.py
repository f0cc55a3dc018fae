"""Every page is reachable by its own path, the default one (/overview) included."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_overview_has_its_own_path(store, app_env):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    paths = {p["url_pathname"]: Path(p["script_path"]).name for p in at._registered_pages.values()}
    assert paths[""] == paths["overview"] == "overview.py"
    for path in ("reward-model", "diagnostics", "policies", "cases", "live"):
        assert path in paths
