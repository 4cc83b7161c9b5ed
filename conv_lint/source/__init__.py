"""Reading a project without running it: the parse (``parsing``, in pieces: ``skim``), a fast
walk of its trees (``walk``), source positions (``positions``), the nesting guard (``nesting``),
import aliases (``imports``), where sibling modules are on disk (``project``), and what the
author states in comments and annotations (``directives``, ``jaxtyped``)."""
