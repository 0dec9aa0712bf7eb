"""CSV cells that no spreadsheet will run as a formula.

Following OWASP's CSV-injection guidance, a cell that starts with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
quote, which spreadsheets show as text. A ``-`` or ``+`` that starts a plain
number is left alone, so negative figures stay numbers.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """``value`` made inert for spreadsheets; non-strings pass through.

    >>> safe_cell('=HYPERLINK("http://x","y")')
    '\\'=HYPERLINK("http://x","y")'
    >>> safe_cell("-12.5"), safe_cell("-x"), safe_cell("@SUM(A1)"), safe_cell(3)
    ('-12.5', "'-x", "'@SUM(A1)", 3)
    """
    if not isinstance(value, str) or not value.startswith(_DANGEROUS_START):
        return value
    if value[0] in "+-" and _NUMBER.match(value):
        return value
    return "'" + value


def write_rows(out: io.TextIOBase | Any, header: Sequence[str], rows: Iterable[Sequence[Any]],
               *, delimiter: str = ",") -> None:
    """Write a header and rows as CSV, every cell through :func:`safe_cell`.

    A carriage return inside a cell becomes a line feed: csv.writer quotes
    only the characters of its line terminator ("\\n"), and a spreadsheet
    ends the row at a bare, unquoted CR, so the text after it would start the
    next row unneutralised.

    >>> out = io.StringIO()
    >>> write_rows(out, ["subject"], [["a\\r=1+1"]])
    >>> out.getvalue()
    'subject\\n"a\\n=1+1"\\n'
    """
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)


def _cell(value: Any) -> Any:
    """A cell as :func:`write_rows` writes it: missing values empty, carriage
    returns made line feeds, formulas made inert.

    Text, most cells of a large export, is never missing: it skips that test.

    >>> _cell(None), _cell(float("nan")), _cell("=1+1"), _cell("a\\r\\nb"), _cell(2)
    ('', '', "'=1+1", 'a\\nb', 2)
    """
    if type(value) is not str and _missing(value):
        return ""
    return safe_cell(_no_bare_cr(value))


def _no_bare_cr(value: Any) -> Any:
    if isinstance(value, str) and "\r" in value:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        type(value).__name__ in ("NaTType", "NAType"))
