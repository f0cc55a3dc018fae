"""Bringing results made elsewhere into the store: generations (AlpacaEval, align-anything,
a documented JSON Lines layout) and reward-model scores (RewardBench, align-anything, JSON
Lines), and writing a dataset back out in TRL's layout.

An import is a run like PrefLens's own (kind ``generate``, ``score`` or
``score_generations``), finished in one transaction, marked ``imported`` in its config,
and keyed by the whole file's fingerprint, so importing the same file again reuses it.
Every row of the file is either stored or refused with its row number and a reason.
"""
