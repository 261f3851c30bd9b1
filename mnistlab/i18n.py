"""The interface's languages: English and Brazilian Portuguese, chosen per browser session (or per CLI process).

A message is translated at the moment it is shown, in the language of whoever is shown it. `use(language)` sets
that language for the current context — a Streamlit script run or callback, the CLI's process — and `_()`,
`ngettext()` and the number formats read it. Nothing is installed process-wide (`gettext.install` would put one
student's choice into every other student's pages), and no translated text is computed at import: a constant
that is shown later is marked with `N_()` and translated where it is shown.

Catalogs are gettext's: `mnistlab/locale/<language>/LC_MESSAGES/mnistlab.po`, kept with Babel (`babel.cfg`; the
`pybabel extract` and `update` commands are in the README's "Languages"). The wheel carries them compiled (`.mo`, made by setup.py's build
step); a checkout, which has only the `.po`, compiles it in memory the first time it is needed.
"""

from __future__ import annotations

import gettext
import io
import os
from contextvars import ContextVar
from functools import cache
from pathlib import Path

DOMAIN = "mnistlab"
LOCALE_DIR = Path(__file__).with_name("locale")
ENGLISH = "en"
LANGUAGES = {"en": "English", "pt_BR": "Português (Brasil)"}  # each in its own language, as a switch shows them
PSEUDO = "pseudo"  # every message wrapped in ⟦…⟧: a test's way to find text that never went through the catalog

_language: ContextVar[str] = ContextVar("mnistlab_language", default=ENGLISH)


def use(language: str) -> None:
    """Speak `language` in this context from now on (a Streamlit script thread, a callback, the CLI)."""
    if language not in LANGUAGES and language != PSEUDO:
        raise ValueError(f"No interface language {language!r}; there are {', '.join(LANGUAGES)}.")
    _language.set(language)


def current() -> str:
    return _language.get()


def _(message: str) -> str:
    return _translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for `n` as the language counts (Portuguese's plural rule comes from the catalog's header)."""
    return _translations(current()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it: it is translated where it is shown."""
    return message


def pick(browser_locale: str | None = None, environment: str | None = None) -> str:
    """The language a session starts in: the browser's (st.context.locale, "pt-BR"), else the server's
    MNISTLAB_LANG (or, for the CLI, LC_ALL / LC_MESSAGES / LANG: "pt_BR.UTF-8"), else English. Any Portuguese
    is Brazilian Portuguese: it is the only Portuguese there is."""
    for wanted in (browser_locale, environment):
        if wanted:
            code = wanted.split(".")[0].replace("-", "_").lower()
            if code.startswith("pt"):
                return "pt_BR"
            if code.startswith("en"):
                return ENGLISH
    return ENGLISH


def cli_language() -> str:
    """The CLI's language, from the environment as gettext reads it (LANGUAGE's first choice wins)."""
    for variable in ("MNISTLAB_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "").split(":")[0]
        if value and value not in ("C", "POSIX"):
            return pick(environment=value)
    return ENGLISH


# Numbers as the language writes them ("98,6%", "0,9924", "1.234 imagens" in Portuguese).

def percent(value: float, digits: int = 1) -> str:
    from babel.numbers import format_percent

    return format_percent(value, format=_pattern(digits) + "%", locale=_babel_locale())


def decimal(value: float, digits: int = 4) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, format=_pattern(digits), locale=_babel_locale())


def number(value: int) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_babel_locale())


def short(value: float) -> str:
    """A setting as short as it is exact ("0.001", "0,2"): Python's `g` format, with the language's decimal mark."""
    return f"{value:g}".replace(".", decimal_mark())


def decimal_mark() -> str:
    from babel.numbers import get_decimal_symbol

    return get_decimal_symbol(_babel_locale())


def group_mark() -> str:
    from babel.numbers import get_group_symbol

    return get_group_symbol(_babel_locale())


def when(moment: str, timezone: str | None = None) -> str:
    """An ISO timestamp (run.json's "created") as the language writes a date and time ("Dec 6, 2026, 8:29:42 PM",
    "6 de dez. de 2026 17:29:42"), in `timezone` (the browser's, "America/Sao_Paulo") when it is a known zone. What is
    not a timestamp is returned as it is."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from babel.dates import format_datetime

    try:
        moment_ = datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment)
    try:
        zone = ZoneInfo(timezone) if timezone else moment_.tzinfo
    except (ZoneInfoNotFoundError, ValueError):
        zone = moment_.tzinfo
    return format_datetime(moment_, format="medium", tzinfo=zone, locale=_babel_locale())


def _pattern(digits: int) -> str:
    """Babel's number pattern with exactly `digits` decimals (without one, Babel rounds to three)."""
    return "#,##0" + ("." + "0" * digits if digits else "")


def _babel_locale() -> str:
    return "en_US" if current() in (ENGLISH, PSEUDO) else current()


@cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == ENGLISH:
        return gettext.NullTranslations()
    if language == PSEUDO:
        return _Pseudo()
    compiled = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if compiled.exists():
        with compiled.open("rb") as file:
            return gettext.GNUTranslations(file)
    return gettext.GNUTranslations(io.BytesIO(compile_catalog(language)))


def compile_catalog(language: str) -> bytes:
    """The language's `.po` compiled to `.mo` bytes with Babel (what the build writes to the wheel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        catalog = read_po(file, locale=language)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


class _Pseudo(gettext.NullTranslations):
    def gettext(self, message):
        return f"⟦{message}⟧"

    def ngettext(self, singular, plural, n):
        return f"⟦{singular if n == 1 else plural}⟧"
