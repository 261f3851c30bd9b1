"""The interface's languages (issue 25): the catalogs, the per-session language, numbers per locale, the CLI."""

import contextvars
import os
import re
import subprocess
import sys
import threading

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from conftest import REPO
from mnistlab import i18n

PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sr]|%[sr]")


def _code_messages() -> set:
    """Every message marked in the code, found as `pybabel extract -F babel.cfg` finds it (its mapping read from
    babel.cfg itself; Babel's default keywords include N_ and ngettext)."""
    with (REPO / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {found[2] for found in extract_from_dir(str(REPO), method_map, options_map, keywords=DEFAULT_KEYWORDS)}


def _catalog(language="pt_BR"):
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "mnistlab.po").open("rb") as file:
        return read_po(file, locale=language)


def test_every_message_in_the_code_has_a_portuguese_translation():
    catalog = _catalog()
    translated = {message.id: message.string for message in catalog if message.id}
    untranslated = []
    for found in _code_messages():
        string = translated.get(found)  # a plural message is (singular, plural), its translation one per form
        if not string or not all(string if isinstance(string, tuple) else (string,)):
            untranslated.append(found)
    assert not untranslated, f"not in mnistlab/locale/pt_BR/.../mnistlab.po (run pybabel extract/update): {untranslated}"
    assert not catalog.fuzzy and not [message.id for message in catalog if message.id and message.fuzzy]


def test_a_translation_keeps_every_placeholder_of_its_message():
    for message in _catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == wanted, (message.id, string)


def test_each_context_speaks_its_own_language():
    """Two sessions at once (a script thread each): one student's choice never changes another's."""
    seen, both_set = {}, threading.Barrier(2)

    def session(language):
        i18n.use(language)
        both_set.wait()  # both have chosen before either translates
        seen[language] = (i18n._("kept."), i18n.ngettext("{count} drawing written to {file}",
                                                         "{count} drawings written to {file}", 2))

    threads = [threading.Thread(target=session, args=(language,)) for language in ("pt_BR", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"pt_BR": ("mantido.", "{count} desenhos escritos em {file}"),
                    "en": ("kept.", "{count} drawings written to {file}")}
    assert i18n.current() == "en"  # this thread chose nothing: the default


def test_portuguese_counts_with_the_catalogs_plural_rule():
    def said(n):
        i18n.use("pt_BR")
        try:
            return i18n.ngettext("{count} drawing added from {file}", "{count} drawings added from {file}", n)
        finally:
            i18n.use("en")

    assert said(0).startswith("{count} desenho adicionado")  # Portuguese says "0 desenho", as "1 desenho"
    assert said(1).startswith("{count} desenho adicionado") and said(2).startswith("{count} desenhos adicionados")
    assert said(1_000_000).startswith("{count} de desenhos")  # "1 milhão de desenhos"


@pytest.mark.parametrize("language, shown", [
    ("pt_BR", ("98,6%", "0,9924", "1.234", "99%")),
    ("en", ("98.6%", "0.9924", "1,234", "99%")),
])
def test_numbers_as_the_language_writes_them(language, shown):
    i18n.use(language)
    try:
        assert (i18n.percent(0.986), i18n.decimal(0.99237), i18n.number(1234), i18n.percent(0.99, 0)) == shown
    finally:
        i18n.use("en")


@pytest.mark.parametrize("browser, environment, language", [
    ("pt-BR", None, "pt_BR"), ("pt", None, "pt_BR"), ("pt-PT", None, "pt_BR"), ("en-US", "pt_BR", "en"),
    ("fr-FR", "pt_BR.UTF-8", "pt_BR"), (None, None, "en"), ("de", "C", "en"),
])
def test_a_session_starts_in_the_browsers_language_then_the_servers(browser, environment, language):
    assert i18n.pick(browser, environment) == language


def test_the_pseudo_language_marks_every_message_and_an_unknown_one_is_refused():
    i18n.use(i18n.PSEUDO)
    try:
        assert i18n._("kept.") == "⟦kept.⟧"
    finally:
        i18n.use("en")
    with pytest.raises(ValueError, match="No interface language 'fr'"):
        i18n.use("fr")


def _cli(args, **env):
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("MNISTLAB_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    return subprocess.run([sys.executable, "-m", "mnistlab", *args], capture_output=True, text=True, cwd=REPO,
                          env=dict(environment, **env), timeout=120)


def test_the_cli_follows_lang_and_its_flags_stay_english():
    shown = _cli(["rename", "--help"], LANG="pt_BR.UTF-8").stdout
    assert "uso: mnistlab rename" in shown and "Renomeia um treino." in shown and "exemplo:" in shown
    assert "mostra esta ajuda e sai" in shown and "-h, --help" in shown
    wrong = _cli(["runs", "--bogus"], LC_ALL="pt_BR.UTF-8", LANG="en_US.UTF-8")
    assert wrong.returncode == 2 and "mnistlab: erro: argumentos não reconhecidos: --bogus" in wrong.stderr
    english = _cli(["rename", "--help"], LANG="C.UTF-8").stdout
    assert "usage: mnistlab rename" in english and "Rename a run." in english
    assert "Renomeia" not in _cli(["rename", "--help"], LANG="pt_BR.UTF-8", MNISTLAB_LANG="en").stdout


def test_a_checkout_compiles_its_catalog_as_the_wheels_build_does():
    import gettext
    import io

    compiled = gettext.GNUTranslations(io.BytesIO(i18n.compile_catalog("pt_BR")))
    assert compiled.gettext("kept.") == "mantido." and compiled.gettext("no such message") == "no such message"


def _binds_underscore(tree) -> list[int]:
    """Lines where a module binds `_` other than by importing it: an assignment, a loop or a `with … as _`."""
    import ast

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store):
            lines.append(node.lineno)
        elif isinstance(node, ast.arg) and node.arg == "_":
            lines.append(node.lineno)
    return lines


def test_no_module_that_translates_uses_underscore_as_a_throwaway_name():
    """`a, _ = …` in a module that imports `_` makes `_` that value for the rest of the function (or, on a page, of the
    script): the next `_("…")` calls a column or an array. Found this way five times in the pages and mnistlab."""
    import ast

    offenders = {}
    for path in [*REPO.glob("mnistlab/**/*.py"), *REPO.glob("dashboard/**/*.py")]:
        source = path.read_text()
        if not re.search(r"^from (mnistlab|\.+)(\.i18n)? import .*\b_\b", source, re.M) and "import _," not in source:
            continue
        if lines := _binds_underscore(ast.parse(source)):
            offenders[str(path.relative_to(REPO))] = lines
    assert not offenders, offenders


@pytest.mark.parametrize("language, zone, shown", [
    ("en", None, "Dec 6, 2026, 8:29:42\u202fPM"),  # CLDR puts a narrow no-break space before PM
    ("en", "America/Sao_Paulo", "Dec 6, 2026, 5:29:42\u202fPM"),
    ("pt_BR", "America/Sao_Paulo", "6 de dez. de 2026 17:29:42"),
    ("pt_BR", "Not/A_Zone", "6 de dez. de 2026 20:29:42"),  # an unknown zone: the time as it was kept
])
def test_a_moment_as_the_language_writes_it_in_the_browsers_time_zone(language, zone, shown):
    def written():
        i18n.use(language)
        return i18n.when("2026-12-06T20:29:42+00:00", zone), i18n.when("?", zone)

    assert contextvars.copy_context().run(written) == (shown, "?")
