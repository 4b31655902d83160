"""CSV injection: a cell a spreadsheet would read as a formula is neutralised before export.

Every CSV the platform emits passes each cell through :func:`safe_cell`: text starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, so that
spreadsheet applications show it as text instead of running it (OWASP's advice). Plain
numbers such as ``-0.5`` stay as they are: a spreadsheet reads them as the number they are.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: Any) -> str:
    """``value`` as CSV cell text (None is empty), neutralised if it could run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text
