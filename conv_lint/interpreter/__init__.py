"""The abstract interpreter: a Python evaluator extended with torch's module semantics.

``FileInterpreter`` (``file``) is what the engine uses: it collects one file's definitions,
builds each model's module tree by running ``__init__`` and follows ``forward`` through the
layer catalogue.
"""
