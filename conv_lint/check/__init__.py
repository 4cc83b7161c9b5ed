"""`conv-lint check`: one small module per job.

    command.py    the subcommand: arguments, settings (command line over config), the run
    discovery.py  which files a folder holds (default excludes, .gitignore, --exclude)
    patterns.py   gitignore-style patterns
    config.py     [tool.conv-lint] in pyproject.toml
    selection.py  select / ignore prefixes and `# noqa`, as flake8 decides it
    runner.py     the engine on many sources: cache, then worker processes
    cache.py      findings by content hash
    diffbase.py   --diff-base: lines changed since a git ref
    formats.py    text, json, sarif, github, rdjson
    sources.py    reading and writing files with their encoding
"""
