"""Column contracts: clear errors at the boundary, one output shape across pandas versions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from analyzer import schema
from analyzer.errors import AnalyzerError, SchemaError, UsageError
from analyzer.i18n import keys
from analyzer.schema import check, conform, empty, markdown, message_frame


def good() -> pd.DataFrame:
    return message_frame([
        {"message_id": "a", "case_id": "c1", "party": "me", "sent_at": "2024-03-04T09:00Z"},
        {"message_id": "b", "case_id": None, "party": "agency", "sent_at": None,
         "automated": True, "automation_kind": "closure", "is_closure": True},
    ])


def test_a_conforming_frame_passes() -> None:
    check(good(), schema.MESSAGES, "f()")
    # extra columns are allowed; pandas' own string dtype is accepted for text
    check(good().assign(extra=1, party=lambda f: f["party"].astype("string")),
          schema.MESSAGES, "f()")


@pytest.mark.parametrize(("change", "pattern"), [
    (lambda f: f.drop(columns=["party"]),
     r"^f\(\): column 'party' is missing \(contract 'messages': str"),
    (lambda f: f.assign(automated=[1, 0]),
     r"^f\(\): column 'automated' has dtype int64; expected bool\.$"),
    (lambda f: f.assign(automated=[True, None]),
     r"column 'automated' has dtype object; expected bool"),
    (lambda f: f.assign(sent_at=f["sent_at"].dt.tz_localize(None)),
     r"column 'sent_at' has dtype datetime64\[\w+\]; expected datetime64\[ns, UTC\] "
     r"\(localise naive times"),
    (lambda f: f.assign(sent_at=f["sent_at"].dt.tz_convert("Europe/Paris")),
     r"column 'sent_at' has dtype datetime64\[\w+, Europe/Paris\]"),
    (lambda f: f.assign(sent_at=["2024-03-04", None]),
     r"column 'sent_at' has dtype (object|str)"),
    (lambda f: f.assign(message_id=[1, 2]), r"column 'message_id' has dtype int64"),
    (lambda f: f.assign(message_id=pd.Series([1, "b"], dtype=object)),
     r"column 'message_id' has dtype object holding mixed-integer"),
    (lambda f: f.assign(message_id=["a", None]),
     r"column 'message_id' has 1 missing value\(s\) \(row 1…\); none are allowed"),
    (lambda f: f.assign(party=["me", "citizen"]),
     r"column 'party' holds 'citizen'; allowed values: me, agency, contractor, other"),
    (lambda f: f.assign(automation_kind=["spam", None]), r"column 'automation_kind' holds"),
    (lambda f: f.assign(source=["mail", "fax"]), r"column 'source' holds 'fax'"),
    (lambda f: f.assign(answer=["yes", "no"]), r"column 'answer' has dtype"),
])
def test_errors_name_the_column(change: Any, pattern: str) -> None:
    with pytest.raises(SchemaError, match=pattern):
        check(change(good()), schema.MESSAGES, "f()")


def test_duplicated_columns_and_non_frames() -> None:
    doubled = pd.concat([good(), good()[["party"]]], axis=1)
    with pytest.raises(SchemaError, match="column 'party' has dtype a duplicated column"):
        check(doubled, schema.MESSAGES, "f()")
    with pytest.raises(SchemaError, match=r"expected a pandas DataFrame.*got list"):
        check([], schema.MESSAGES, "f()")


def test_column_subsets_and_optional_columns() -> None:
    slim = good()[["message_id", "party"]]
    check(slim, schema.MESSAGES, "f()", columns=["message_id", "party"])
    with pytest.raises(SchemaError, match="'case_id' is missing"):
        check(slim, schema.MESSAGES, "f()")
    # an optional column asked for by name must be there
    with pytest.raises(SchemaError, match="'source' is missing"):
        check(slim, schema.MESSAGES, "f()", columns=["source"])


def test_error_family_and_languages() -> None:
    err = SchemaError("schema.missing_column", where="waits()", contract="messages",
                      column="party", expected="str", meaning="who sent it")
    assert isinstance(err, UsageError) and isinstance(err, AnalyzerError)
    assert err.render("fr") == ("waits() : colonne « party » absente (contrat « messages » : "
                                "str, who sent it).")
    assert SchemaError().key == "schema.invalid"
    for key in ("schema.invalid", "schema.not_a_frame", "schema.missing_column",
                "schema.bad_dtype", "schema.missing_values", "schema.bad_value"):
        assert key in keys()


def test_conform_orders_casts_and_drops() -> None:
    raw = pd.DataFrame({
        "extra": [1], "waits": np.array([3], dtype="int32"), "responder": ["me"],
        "month": pd.array(["2024-03"], dtype="string"), "open_waits": [0],
        "median_delay_seconds": [60], "p90_delay_seconds": [np.nan],
        "median_delay_working_days": [0.5],
    })
    got = conform(raw, schema.MONTHLY)
    assert got.columns.tolist() == schema.MONTHLY.names
    assert got.dtypes.astype(str).tolist() == [
        "object", "object", "int64", "int64", "float64", "float64", "float64"]
    with pytest.raises(KeyError, match="responder"):
        conform(raw.drop(columns=["responder"]), schema.MONTHLY)


def test_conform_datetimes_and_missing_text() -> None:
    raw = pd.DataFrame({"month": ["2024-03", None]})
    assert conform(raw.assign(responder="me", waits=0, open_waits=0,
                              median_delay_seconds=0.0, p90_delay_seconds=0.0,
                              median_delay_working_days=0.0),
                   schema.MONTHLY)["month"].tolist() == ["2024-03", None]
    frame = message_frame([{"message_id": "a", "party": "me",
                            "sent_at": "2024-03-04T10:00+01:00"}])
    assert str(frame["sent_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["sent_at"].iloc[0] == pd.Timestamp("2024-03-04T09:00Z")


@pytest.mark.parametrize("contract", schema.CONTRACTS, ids=lambda c: c.name)
def test_every_contract_builds_an_empty_frame_that_passes(contract: schema.Contract) -> None:
    frame = empty(contract)
    assert frame.columns.tolist() == [c.name for c in contract.columns if c.required]
    check(frame, contract, "empty()")
    assert len(contract.names) == len(set(contract.names))
    assert markdown(contract).count("\n") == len(contract.columns) + 1


def test_contract_lookup() -> None:
    assert schema.WAITS.column("reminders").kind == "int"
    with pytest.raises(KeyError):
        schema.WAITS.column("nope")


def test_journal_contract_extends_messages() -> None:
    assert schema.JOURNAL.names[:15] == [
        c.name for c in schema.MESSAGES.columns if c.name not in ("source", "answer")]


@pytest.mark.parametrize("module", ["analyzer.schema", "analyzer.metrics",
                                    "analyzer.workdays", "analyzer.journal"])
def test_docstring_examples(module: str) -> None:
    # Every public function's docstring holds an example; keep them true.
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
