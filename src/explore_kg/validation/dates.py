"""Date literals as the graph writes them: the four datatypes, their intervals, and what a slip meant.

Each date is stated at the precision its source gives: ``xsd:date`` (a day), ``xsd:gYearMonth`` (a
month), ``xsd:gYear`` (a year) or ``ekg:japaneseFiscalYear`` (1 April to 31 March). The interval of a
value is the earliest and latest day it can mean; comparisons between dates (end before start) compare
intervals, so dates of different precision compare correctly.
"""

from __future__ import annotations

import calendar
import datetime
import re

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ..namespaces import EKG

JFY = EKG.japaneseFiscalYear
DATE_TYPES = {XSD.date: "YYYY-MM-DD", XSD.gYearMonth: "YYYY-MM", XSD.gYear: "YYYY", JFY: "YYYY"}
_FORMS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}"), XSD.date),
    (re.compile(r"\d{4}-\d{2}"), XSD.gYearMonth),
    (re.compile(r"\d{4}"), XSD.gYear),
)
_FISCAL = re.compile(r"(?:J?FY|fiscal(?: year)?)\s*(\d{4})", re.I)
_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2})T[\d:.]+(?:Z|[+-]\d\d:\d\d)?")
_VAGUE = re.compile(r"(early|mid|late|end of|by|before|around|spring|summer|autumn|fall|winter)[\s-]+(\d{4})", re.I)


def interval(value: Literal) -> tuple[datetime.date, datetime.date] | None:
    """The first and last day a well-formed date literal can mean, or None."""
    return _interval(str(value), value.datatype)


def _interval(text: str, dt: URIRef | None) -> tuple[datetime.date, datetime.date] | None:
    try:
        if dt == XSD.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = datetime.date.fromisoformat(text)
            return d, d
        if dt == XSD.gYearMonth and re.fullmatch(r"\d{4}-\d{2}", text):
            y, m = int(text[:4]), int(text[5:])
            return datetime.date(y, m, 1), datetime.date(y, m, calendar.monthrange(y, m)[1])
        if dt == XSD.gYear and re.fullmatch(r"\d{4}", text):
            y = int(text)
            return datetime.date(y, 1, 1), datetime.date(y, 12, 31)
        if dt == JFY and re.fullmatch(r"\d{4}", text):
            y = int(text)
            return datetime.date(y, 4, 1), datetime.date(y + 1, 3, 31)
    except ValueError:
        return None
    return None


def written(text: str, datatype: URIRef) -> str:
    """A literal as a contributor would write it in Turtle, with the datatype as a prefixed name."""
    name = "ekg:japaneseFiscalYear" if datatype == JFY else "xsd:" + str(datatype).rsplit("#", 1)[-1]
    return f'"{text}"^^{name}'


def suggested(text: str) -> tuple[str, URIRef] | None:
    """(text, datatype) of the date literal the text of a slipped date has the form of, if we can tell
    (it may not be a real date: 2024-13-01 has the form of a day)."""
    text = text.strip()
    if m := _FISCAL.fullmatch(text):
        return m.group(1), JFY
    if m := _DATETIME.fullmatch(text):
        return m.group(1), XSD.date
    for pattern, dt in _FORMS:
        if pattern.fullmatch(text):
            return text, dt
    return None


def suggestion(text: str) -> str | None:
    """How the text of a slipped date should have been written, if we can tell."""
    fix = suggested(text)
    return written(*fix) if fix is not None else None


_UNIT = {XSD.date: "day", XSD.gYearMonth: "month", XSD.gYear: "year", JFY: "fiscal year"}


def _not_real(form: tuple[str, URIRef] | None) -> str | None:
    """'day' or 'month' when the text has the form of one (:func:`suggested`) but is no real one
    (2024-13, 2024-02-30): then its digits are wrong, and no literal with them is worth suggesting."""
    return None if form is None or _interval(*form) is not None else _UNIT[form[1]]


def _check_digits(form: tuple[str, URIRef]) -> str:
    unit = _UNIT[form[1]]
    return f"Check the digits against the source (a real {unit}), then write the {unit} as {written(DATE_TYPES[form[1]], form[1])}."


def problem(value: Literal) -> tuple[str, str, str] | None:
    """(rule, message, hint) for a value of a date property that is not a well-formed date, or None.

    A text with the form of a day or month that is no real one (2024-13) is said to be none, whatever
    its datatype, and is not suggested back with its digits in another datatype."""
    text = str(value)
    form = suggested(text)
    not_real = _not_real(form)
    if value.datatype is None or value.datatype == XSD.string:
        fix = written(*form) if form is not None else None
        if not_real:
            return ("date-plain-string", f'The date "{text}" is a plain string, and not a real {not_real} either.',
                    f"Check the digits against the source, then give it its datatype: {fix}.")
        if fix:
            return ("date-plain-string", f'The date "{text}" is a plain string, so it neither sorts nor filters as a date.',
                    f"Give it its datatype: {fix}.")
        vague = _VAGUE.search(text)
        if vague:
            return ("date-plain-string", f'The date "{text}" is text, not a date.',
                    f'State the value as {written(vague.group(2), XSD.gYear)} and record "{vague.group(1)}" as the '
                    "qualifier of an ekg:Claim about it (ekg:qualifier datequal:...).")
        return ("date-plain-string", f'The date "{text}" is text, not a date.',
                "Use xsd:date (YYYY-MM-DD), xsd:gYearMonth (YYYY-MM), xsd:gYear (YYYY) or ekg:japaneseFiscalYear "
                "(YYYY); a period in words goes in ekg:timeframe.")
    if value.datatype not in DATE_TYPES:
        message = f"A date must be an xsd:date, xsd:gYearMonth, xsd:gYear or ekg:japaneseFiscalYear, not {_name(value.datatype)}."
        if not_real:
            return ("date-wrong-datatype", f'{message[:-1]}; and "{text}" is not a real {not_real} either.', _check_digits(form))
        return ("date-wrong-datatype", message,
                f"Write it as {written(*form)}, at the precision the source gives." if form else
                "Use one of the four date datatypes, at the precision the source gives.")
    if interval(value) is not None:
        return None
    expected = DATE_TYPES[value.datatype]
    if form is not None and form[1] != value.datatype:
        disagree = (f'"{text}" is written as {DATE_TYPES[form[1]]} (a {_UNIT[form[1]]}) but typed '
                    f"{_name(value.datatype)} ({expected}): the datatype and the precision disagree")
        if not_real:
            return ("date-wrong-datatype", f"{disagree}, and it is not a real {not_real} either.", _check_digits(form))
        return ("date-wrong-datatype", f"{disagree}.", f"Write {written(*form)} (the datatype says the precision).")
    return ("date-malformed", f'"{text}" is not a valid {_name(value.datatype)} (expected {expected}, a real day, '
            "month or year, no time zone).",
            f"Write {written(*form)}." if form and not not_real and written(*form) != written(text, value.datatype) else
            "Check the digits against the source (a real month and day); give only the precision it states.")


def _name(datatype: URIRef | None) -> str:
    if datatype is None:
        return "a plain string"
    if datatype == JFY:
        return "ekg:japaneseFiscalYear"
    s = str(datatype)
    return "xsd:" + s.rsplit("#", 1)[-1] if s.startswith(str(XSD)) else f"<{s}>"
