"""The dashboard's entry point: a router over the pages in ``app_pages/``.

Run it with ``preflens dashboard`` (which runs ``streamlit run dashboard/app.py`` with
the right settings). Streamlit executes this file on every rerun; it sets the page up,
checks the ``PREFLENS_*`` settings, draws the sidebar (store, backend, reload) and runs
the chosen page. An error inside a page shows as one short message, never a stack trace
(``ui.run_page``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this file's folder on sys.path, not the repository root; add the
# root so `import dashboard...` works from a plain checkout too (an installed package
# is found either way).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.launch import ERROR_DETAILS  # noqa: E402
from preflens.config import get_settings  # noqa: E402
from preflens.errors import SettingsError  # noqa: E402

PAGES = Path(__file__).resolve().parent / "app_pages"

st.set_page_config(page_title="PrefLens", page_icon=":material/balance:", layout="wide")
# Also set here (not only by `preflens dashboard`), so `streamlit run dashboard/app.py`
# started by hand never shows a stack trace with server paths either.
st.set_option("client.showErrorDetails", ERROR_DETAILS)

try:
    settings = get_settings()
except SettingsError as exc:  # the same one line the command line prints
    st.error(f"error: {exc}")
    st.stop()

# After the settings check: `dashboard.data` reads them when it is imported.
from dashboard import data, ui  # noqa: E402

pages = [
    # The default page is served at the root and never at its own path, so /overview
    # gets a hidden twin of it (bookmarks and links to /overview open the Overview).
    st.Page(PAGES / "overview.py", title="Overview", url_path="home", default=True),
    st.Page(PAGES / "overview.py", title="Overview", url_path="overview", visibility="hidden"),
    st.Page(PAGES / "reward_model.py", title="Reward model", url_path="reward-model"),
    st.Page(PAGES / "training.py", title="Training", url_path="training"),
    st.Page(PAGES / "over_training.py", title="Over training", url_path="over-training"),
    st.Page(PAGES / "policies.py", title="Policies", url_path="policies"),
    st.Page(PAGES / "cases.py", title="Cases", url_path="cases"),
    st.Page(PAGES / "diagnostics.py", title="Diagnostics", url_path="diagnostics"),
    st.Page(PAGES / "map.py", title="Map", url_path="map"),
    st.Page(PAGES / "suspects.py", title="Suspects", url_path="suspects"),
    st.Page(PAGES / "probes.py", title="Probes", url_path="probes"),
    st.Page(PAGES / "live.py", title="Live scoring", url_path="live"),
]
page = st.navigation(pages)

with st.sidebar:
    st.caption("PrefLens: preference data, reward models and DPO policies.")
    st.text(f"store: {data.shown_url(data.database_url())}")
    st.text(f"backend: {settings.dashboard_api_url}")
    if st.button("Reload data", help="forget cached query results and read the store again"):
        data.clear()

ui.run_page(page)
