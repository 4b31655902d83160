"""Mutation testing of the modules where a silent bug costs most (``make mutation``).

Cosmic Ray makes one small change at a time in a module (a comparison flipped, a constant
moved, a condition negated, an exception swallowed...) and runs the tests; a change that no
test notices "survives". Each mutant runs only the tests that execute the changed statement,
found once per module by a coverage run with one context per test. Not part of ``make test``.
"""
