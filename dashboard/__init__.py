"""The PrefLens web dashboard: a Streamlit app over the store (read-only) that calls the
backend for live scoring. ``preflens dashboard`` starts it (``dashboard/cli.py``).

Modules: ``app.py`` (the ``st.navigation`` router), ``app_pages/`` (one page per file),
``data.py`` (cached ``db.read`` calls), ``frames.py`` (read results as DataFrames and
formatting), ``charts.py`` (pure Altair builders), ``state.py`` (the Cases page's URL
state), ``api_client.py`` (HTTP client of the backend). Nothing here imports torch.
"""
