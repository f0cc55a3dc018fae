"""Generators of the documentation site's reference pages and screenshots.

``python -m docs.gen.reference`` rewrites the generated parts of ``docs/reference/*.md``
from the code (``--check`` only reports what is stale); ``python -m docs.gen.screenshots``
writes ``docs/images/*.png`` from a real dashboard.
"""
