"""Reading sources row by row, and the checks every layout applies to a row's fields.

``rows`` holds ``SourceRow``; ``text`` reads JSON, JSON Lines and CSV; ``tables`` reads
Parquet, saved ``datasets`` folders and the hub; ``fields`` and ``conversations`` turn a
row's values into checked text and chat messages, or a ``RowError`` that says why not.
"""
