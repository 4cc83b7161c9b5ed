"""The language server's room (issue 15): a face like ``plugin.py`` and ``check/``, built on
pygls and lsprotocol (an optional extra), that calls ``engine.analyse`` on each open buffer and
publishes its findings, fixes and shapes. Nothing here yet; nothing imports this package."""
