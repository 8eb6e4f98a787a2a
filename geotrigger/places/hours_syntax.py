"""The OpenStreetMap ``opening_hours`` grammar, the subset geotrigger understands.

A value is rules separated by ``;`` (a later rule replaces what earlier ones said about the days
it names) or ``,`` (an additional rule: it adds to them). A rule is, in order and each optional:
dates (``Jan-Mar``, ``Jun 06-Aug 13``, ``2017 Jul 1 - 2017 Aug 8``, optionally followed by
``:``), days (``Mo-Fr``, ``Sa,Su``, ``PH``), time spans (``08:00-12:00,13:00-18:00``, ends up to
``48:00``, an end before the start runs into the next day) and a state (``open``, ``off``,
``closed``, ``unknown``) with an optional ``"comment"``; or ``24/7``.

Everything else (week numbers, ``Mo[1]``, ``sunrise``, open ends ``16:00+``, ``||`` fallbacks)
raises :class:`~geotrigger.errors.HoursError` naming the token and its column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from geotrigger.errors import HoursError
from geotrigger.suggest import closest

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STATES = {"open": "open", "closed": "closed", "off": "closed", "unknown": "unknown"}
HOLIDAYS = ("PH", "SH")
_UNSUPPORTED = {
    "week": "week numbers",
    "sunrise": "sun times",
    "sunset": "sun times",
    "dawn": "sun times",
    "dusk": "sun times",
    "easter": "easter dates",
}
DAY_MINUTES = 24 * 60

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"[^"]*")
    | (?P<always>24/7)
    | (?P<time>\d{1,2}:\d{2})
    | (?P<num>\d+)
    | (?P<word>[A-Za-z]+)
    | (?P<punct>\|\||[-,;:+\[\]/.])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token: its kind, text and 1-based column."""

    kind: str
    text: str
    col: int


@dataclass(frozen=True, slots=True)
class DateSpec:
    """A calendar position: month, optional day and year."""

    year: int | None
    month: int
    day: int | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule. ``weekdays`` None means every day; an empty set means no day (PH only)."""

    dates: tuple[tuple[DateSpec, DateSpec], ...]
    weekdays: frozenset[int] | None
    spans: tuple[tuple[int, int], ...]  # minutes after local midnight; end may pass 1440
    state: str
    additional: bool
    holidays: bool  # the rule names PH or SH (accepted, never applies: no holiday calendar)
    comment: str | None


def tokenize(expr: str) -> list[Token]:
    """The tokens of an expression; HoursError at the first character that fits none."""
    tokens: list[Token] = []
    pos = 0
    stripped = expr.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None or m.lastgroup is None:
            col = pos + len(stripped[pos:]) - len(stripped[pos:].lstrip()) + 1
            raise HoursError(f"unexpected character {stripped[col - 1]!r} at column {col}")
        tokens.append(Token(m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup) + 1))
        pos = m.end()
    return tokens


class Parser:
    """Recursive descent over the tokens of one expression."""

    def __init__(self, expr: str) -> None:
        self.tokens = tokenize(expr)
        self.i = 0

    def parse(self) -> list[Rule]:
        """All rules of the expression."""
        if not self.tokens:
            raise HoursError("the expression is empty")
        rules = [self._rule(additional=False)]
        while self.i < len(self.tokens):
            sep = self._take().text
            if sep == ";" and self.i == len(self.tokens):
                break  # a trailing ';' is harmless
            rules.append(self._rule(additional=sep == ","))
        return rules

    def _peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def _take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def _is(self, kind: str, text: str | None = None, offset: int = 0) -> bool:
        tok = self._peek(offset)
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    def _rule(self, *, additional: bool) -> Rule:
        start = self.i
        dates: tuple[tuple[DateSpec, DateSpec], ...] = ()
        weekdays: frozenset[int] | None = None
        holidays = False
        spans: tuple[tuple[int, int], ...] = ()
        if self._is("always"):
            self._take()
            spans = ((0, DAY_MINUTES),)
        else:
            dates = self._dates()
            if dates and self._is("punct", ":"):
                self._take()
            weekdays, holidays = self._days()
            spans = self._spans()
        state_at = self.i
        state, comment = self._state()
        if state_at == start and self.i == start + 1 and comment is not None:
            state = "unknown"  # a comment alone says nothing definite about the hours
        if self.i == start:
            self._fail(self._peek(), "expected days, times or a state")
        self._expect_separator()
        if state == "open" and not spans:
            spans = ((0, DAY_MINUTES),)
        return Rule(dates, weekdays, spans, state, additional, holidays, comment)

    def _expect_separator(self) -> None:
        tok = self._peek()
        if tok is None or (tok.kind == "punct" and tok.text in ";,"):
            return
        if tok.text == "||":
            self._fail(tok, "fallback rules '||' are not supported")
        known = _day(tok.text) >= 0 or _month(tok.text) is not None or tok.text in HOLIDAYS
        if tok.kind == "word" and not known:
            self._fail(tok, _unknown_word(tok.text))
        self._fail(tok, "expected ';' or ',' between rules")

    def _dates(self) -> tuple[tuple[DateSpec, DateSpec], ...]:
        ranges: list[tuple[DateSpec, DateSpec]] = []
        while self._is_date_start():
            start = self._date()
            end = start
            if self._is("punct", "-"):
                self._take()
                if start.day is not None and self._is_number(digits=(1, 2)):
                    end = DateSpec(start.year, start.month, self._day_number())
                else:
                    end = self._end_date(start)
            ranges.append((start, end))
            if not (self._is("punct", ",") and self._is_date_start(offset=1)):
                break
            self._take()
        return tuple(ranges)

    def _is_date_start(self, offset: int = 0) -> bool:
        tok = self._peek(offset)
        if tok is None:
            return False
        return self._is_number(digits=(4,), offset=offset) or _month(tok.text) is not None

    def _is_number(self, *, digits: tuple[int, ...], offset: int = 0) -> bool:
        tok = self._peek(offset)
        return tok is not None and tok.kind == "num" and len(tok.text) in digits

    def _end_date(self, start: DateSpec) -> DateSpec:
        """The end of a range; without its own year it is in the start's year, or the next
        one when it comes before the start in the calendar (``2024 Dec-Jan``)."""
        own_year = self._is_number(digits=(4,))
        end = self._date(year=start.year)
        if own_year or start.year is None:
            return end
        if (end.month, end.day or 1) < (start.month, start.day or 1):
            return DateSpec(start.year + 1, end.month, end.day)
        return end

    def _date(self, year: int | None = None) -> DateSpec:
        if self._is_number(digits=(4,)):
            year = int(self._take().text)
        tok = self._peek()
        month = _month(tok.text) if tok is not None else None
        if month is None:
            return self._fail(tok, "expected a month (Jan, Feb, ...)")
        self._take()
        day = self._day_number() if self._is_number(digits=(1, 2)) else None
        return DateSpec(year, month, day)

    def _day_number(self) -> int:
        tok = self._take()
        day = int(tok.text)
        if not 1 <= day <= 31:
            self._fail(tok, "day of month must be 1-31")
        return day

    def _days(self) -> tuple[frozenset[int] | None, bool]:
        if not self._is_day_start():
            return None, False
        days: set[int] = set()
        holidays = False
        while True:
            tok = self._take()
            if tok.text.upper() in HOLIDAYS:
                holidays = True
            else:
                first = _day(tok.text)
                last = first
                if self._is("punct", "-"):
                    self._take()
                    last = _day(self._need_day().text)
                days.update((first + k) % 7 for k in range((last - first) % 7 + 1))
            if self._is("punct", "["):
                self._fail(self._peek(), "nth weekday of the month ('Mo[1]') is not supported")
            if not (self._is("punct", ",") and self._is_day_start(offset=1)):
                return frozenset(days), holidays
            self._take()

    def _is_day_start(self, offset: int = 0) -> bool:
        tok = self._peek(offset)
        if tok is None or tok.kind != "word":
            return False
        if tok.text.upper() in HOLIDAYS or _day(tok.text) >= 0:
            return True
        if tok.text.lower() in STATES:
            return False
        self._fail(tok, _unknown_word(tok.text))

    def _need_day(self) -> Token:
        tok = self._peek()
        if tok is None or tok.kind != "word" or _day(tok.text) < 0:
            self._fail(tok, "expected a weekday (Mo, Tu, We, Th, Fr, Sa, Su)")
        return self._take()

    def _spans(self) -> tuple[tuple[int, int], ...]:
        spans: list[tuple[int, int]] = []
        while self._is("time") or self._is("num"):
            tok = self._take()
            if tok.kind == "num":
                self._fail(tok, f"time {tok.text!r} must be written hh:mm")
            start = _minutes(tok, self)
            if start >= DAY_MINUTES:
                self._fail(tok, "a time span must start before 24:00")
            if self._is("punct", "+"):
                self._fail(self._peek(), "open end ('+') is not supported")
            if not self._is("punct", "-"):
                self._fail(self._peek(), "expected '-' and an end time")
            self._take()
            if not self._is("time"):
                self._fail(self._peek(), "expected an end time hh:mm")
            end = _minutes(self._take(), self)
            if end <= start:
                end += DAY_MINUTES  # ends after midnight: open into the next day
            spans.append((start, end))
            if not (self._is("punct", ",") and (self._is("time", offset=1))):
                break
            self._take()
        return tuple(spans)

    def _state(self) -> tuple[str, str | None]:
        state = "open"
        tok = self._peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() in STATES:
            state = STATES[self._take().text.lower()]
        comment = None
        if self._is("str"):
            comment = self._take().text.strip('"')
        return state, comment

    def _fail(self, tok: Token | None, reason: str) -> NoReturn:
        if tok is None:
            raise HoursError(f"{reason} at the end of the expression")
        raise HoursError(f"{reason}: found {tok.text!r} at column {tok.col}")


def _day(text: str) -> int:
    return DAYS.index(text.title()) if text.title() in DAYS else -1


def _month(text: str) -> int | None:
    return MONTHS.index(text.title()) + 1 if text.title() in MONTHS else None


def _minutes(tok: Token, parser: Parser) -> int:
    hours, minutes = (int(x) for x in tok.text.split(":"))
    if hours > 48 or minutes > 59 or hours * 60 + minutes > 2 * DAY_MINUTES:
        parser._fail(tok, "time out of range (00:00-48:00)")
    return hours * 60 + minutes


def _unknown_word(word: str) -> str:
    if word.lower() in _UNSUPPORTED:
        return f"{_UNSUPPORTED[word.lower()]} are not supported"
    guess: str | None = None
    if len(word) > 2 and _day(word[:2]) >= 0:
        guess = DAYS[_day(word[:2])]  # "Mon", "Monday"
    elif len(word) > 3 and _month(word[:3]) is not None:
        guess = word[:3].title()  # "June"
    else:
        vocabulary = [*DAYS, *MONTHS, *STATES, *HOLIDAYS]
        guess = closest(word, vocabulary)
    return f"unknown word (did you mean {guess!r}?)" if guess else "unknown word"
