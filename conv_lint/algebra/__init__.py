"""The only math: exact sizes of tensor axes (``sizes``) and exact channel counts of
unresolved constructor parameters (``symbols``). Pure Python: no libcst, no source."""
