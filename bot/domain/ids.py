"""What counts as a record's id when it comes from outside (a URL, a query string, a form, a typed code): once, for
every page and service that reads one.

An id is 1 to 10 ASCII digits whose value is 1 … 2**31 - 1, the database's integer (PostgreSQL's `integer` column
refuses to compare with anything larger; SQLite would not, so only PostgreSQL would fail). Anything else — Unicode
digits (`"²".isdigit()` is true but `int("²")` fails; `int("٣")` is 3), signs, spaces inside, 0, a number beyond the
column — is no id of ours: None, which each caller answers as it answers an unknown record (a 404 that names
nobody, or the form's own message). A route's `{name:int}` converter already gives an int (ASCII digits only, of any
size): it is bounded the same way.
"""

from __future__ import annotations

import re

LARGEST_ID = 2**31 - 1  # PostgreSQL's `integer`: the largest id a table can hold
_ID = re.compile(r"[0-9]{1,10}")


def record_id(value: object) -> int | None:
    """The id `value` names — text of 1 to 10 ASCII digits (spaces around allowed, as a form sends them), or an int
    from a route converter — when it is 1 … LARGEST_ID; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= LARGEST_ID else None
