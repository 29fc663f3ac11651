"""The zh_CN catalog (issue 22.16): scripts/check_translations.py passes on the tree and fails,
naming the string, when a page or a flash shows a msgid that is missing, untranslated or fuzzy,
or when the compiled .mo lags its .po. Every word the pages show from data (statuses, roles,
stages, event types, connector labels) has a translation."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from hub.web import vocabulary

ROOT = Path(__file__).resolve().parents[2]
PO = Path("hub/web/translations/zh_CN/LC_MESSAGES/hub.po")


def _script():
    spec = importlib.util.spec_from_file_location(
        "check_translations", ROOT / "scripts" / "check_translations.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def check():
    return _script()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of what the check reads: babel.cfg, the web layer and the catalog."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copy(ROOT / "babel.cfg", tmp_path / "babel.cfg")
    shutil.copytree(ROOT / "hub" / "web", tmp_path / "hub" / "web", ignore=ignore)
    shutil.copytree(ROOT / "hub" / "services", tmp_path / "hub" / "services", ignore=ignore)
    return tmp_path


def _catalog(root: Path):
    with (root / PO).open("rb") as f:
        return read_po(f, locale="zh_CN")


def test_the_tree_has_every_string_translated(check, capsys) -> None:
    assert check.main([]) == 0, capsys.readouterr().out


def test_a_new_untranslated_string_fails_naming_it(check, tree: Path, capsys) -> None:
    assert check.main(["--root", str(tree)]) == 0  # the copy passes as the tree does
    page = tree / "hub/web/templates/admin/customers.html"
    page.write_text(page.read_text() + '{{ _("Export the planted customers") }}\n')
    flashes = tree / "hub/web/admin/customers.py"
    flashes.write_text(flashes.read_text() + '\n\ndef planted():\n    return _("Planted flash")\n')
    assert check.main(["--root", str(tree)]) == 1
    out = capsys.readouterr().out
    assert (
        "zh_CN: missing: 'Export the planted customers' (hub/web/templates/admin/customers.html"
        in out
    )
    assert "zh_CN: missing: 'Planted flash' (hub/web/admin/customers.py" in out


def test_an_empty_or_fuzzy_translation_fails(check, tree: Path, capsys) -> None:
    catalog = _catalog(tree)
    catalog["Customers"].string = ""
    catalog["Orders"].flags.add("fuzzy")
    catalog["Sync of %(name)s queued."].string = "已排队 %(store)s"  # a placeholder renamed
    with (tree / PO).open("wb") as f:
        write_po(f, catalog)
    assert check.main(["--root", str(tree)]) == 1
    out = capsys.readouterr().out
    assert "zh_CN: untranslated: 'Customers'" in out
    assert "zh_CN: fuzzy: 'Orders'" in out
    assert "'Sync of %(name)s queued.'" in out
    assert "older than its .po" in out  # hub.mo no longer says what the .po says


def test_every_word_shown_from_data_is_translated() -> None:
    from connectors.customers.connector import CustomersConnector
    from connectors.sobot.connector import SobotConnector
    from connectors.tmall.connector import TmallConnector
    from connectors.youzan.connector import YouzanConnector
    from hub.core.plan.settings import STAGES
    from hub.core.records import STATUSES
    from hub.models import ApiToken, SyncRun
    from hub.web.admin.inbox import STATUSES as INBOX
    from hub.web.admin.schema_form import field_specs
    from hub.web.admin.settings import BUILTIN_TYPES

    shown = {*STATUSES, *STAGES, *ApiToken.ROLES, *SyncRun.STATUSES, *INBOX, *BUILTIN_TYPES}
    shown |= {"active", "error", "unbound"}  # Connection.status
    shown |= {"manual", "auto", "api", "resume"}  # SyncRun.trigger
    shown |= {"configuration", "transient", "system"}  # SyncRun.error_class
    for cls in (YouzanConnector, CustomersConnector, SobotConnector, TmallConnector):
        shown.add(cls.display_name)
        shown |= {spec.label for spec in field_specs(cls.settings_schema())}
        shown |= {spec.help for spec in field_specs(cls.settings_schema()) if spec.help}
    assert not shown - vocabulary.ALL, (
        f"mark these in hub/web/vocabulary.py: {shown - vocabulary.ALL}"
    )
    catalog = _catalog(ROOT)
    untranslated = sorted(w for w in shown if not (catalog.get(w) and catalog.get(w).string))
    assert not untranslated, f"translate these in {PO}: {untranslated}"
