"""The PrefLens HTTP service: live scoring, comparison and generation from loaded
checkpoints, and the JSON twin of every dashboard number (``create_app`` in app.py)."""
