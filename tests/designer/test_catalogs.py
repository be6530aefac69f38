"""The app's translation catalogs (designer/src/locales/<lang>/<namespace>.json) are complete:
a key one language has, every language has, with a non-empty text and the same `{{holes}}`.
A screen in Ukrainian or Russian must never fall back to English or show a raw key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

LOCALES = Path(__file__).resolve().parents[2] / "designer" / "src" / "locales"
LANGUAGES = ("en", "uk", "ru")
HOLE = re.compile(r"\{\{\s*([\w.]+)")


def _flatten(catalog: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in catalog.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _catalog(lang: str, namespace: str) -> dict[str, str]:
    return _flatten(json.loads((LOCALES / lang / f"{namespace}.json").read_text(encoding="utf-8")))


def _base_key(key: str) -> str:
    """i18next plural forms (`_one`, `_few`, `_many`, `_other`) differ by language: compare their stem."""
    return re.sub(r"_(zero|one|two|few|many|other)$", "", key)


NAMESPACES = sorted({p.stem for lang in LANGUAGES for p in (LOCALES / lang).glob("*.json")})


def test_every_language_has_every_namespace() -> None:
    for lang in LANGUAGES:
        assert sorted(p.stem for p in (LOCALES / lang).glob("*.json")) == NAMESPACES, lang


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_language_has_the_same_keys(namespace: str) -> None:
    stems = {lang: {_base_key(k) for k in _catalog(lang, namespace)} for lang in LANGUAGES}
    for lang in LANGUAGES[1:]:
        assert stems[lang] - stems["en"] == set(), f"{lang}/{namespace} has keys en lacks"
        assert stems["en"] - stems[lang] == set(), f"{lang}/{namespace} misses keys"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_texts_are_filled_and_keep_their_holes(namespace: str) -> None:
    english = _catalog("en", namespace)
    holes = {_base_key(k): set(HOLE.findall(v)) for k, v in english.items()}
    for lang in LANGUAGES:
        for key, text in _catalog(lang, namespace).items():
            assert isinstance(text, str) and text.strip(), f"{lang}/{namespace}:{key} is empty"
            assert set(HOLE.findall(text)) <= holes[_base_key(key)] | {"count"}, f"{lang}/{namespace}:{key}"


def test_plural_keys_have_the_forms_their_language_needs() -> None:
    """Ukrainian and Russian need one/few/many (1 угода, 2 угоди, 5 угод); English one/other."""
    needed = {"en": {"one", "other"}, "uk": {"one", "few", "many"}, "ru": {"one", "few", "many"}}
    for namespace in NAMESPACES:
        for lang in LANGUAGES:
            keys = _catalog(lang, namespace)
            stems = {re.sub(r"_(one|few|many|other)$", "", k) for k in keys if re.search(r"_(one|few|many|other)$", k)}
            for stem in stems:
                forms = {k.rsplit("_", 1)[1] for k in keys if k.startswith(f"{stem}_")}
                assert needed[lang] <= forms, f"{lang}/{namespace}:{stem} has {sorted(forms)}"


def test_every_shipped_action_parameter_has_a_label_and_what_the_server_explains_a_hint() -> None:
    """The panel labels a parameter from the catalog; the server's schema speaks English only."""
    from robots.actions import registry

    labelled = json.loads((LOCALES / "en" / "actions.json").read_text(encoding="utf-8"))["parameter"]
    for action in registry.catalog():
        for name, spec in action["parameters"].items():
            entry = labelled.get(action["name"], {}).get(name)
            assert entry and entry["label"], f"{action['name']}.{name} has no label"
            assert bool(entry.get("hint")) == bool(spec["description"]), f"{action['name']}.{name}: hint"
