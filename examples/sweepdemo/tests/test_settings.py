from __future__ import annotations

from pathlib import Path

import pytest
from notebox.settings import DEFAULTS, SettingsBusy, SettingsError, SettingsStore


def test_first_load_gives_the_defaults(tmp_path: Path) -> None:
    assert SettingsStore(tmp_path).load() == DEFAULTS


def test_saved_settings_load_back(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    store.save({"theme": "dark"})
    assert store.load() == {**DEFAULTS, "theme": "dark"}


def test_saving_keeps_a_few_backups(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    for size in range(6):
        store.save({"font-size": 10 + size})
    assert store.load()["font-size"] == 15
    assert len(store.backups()) == 3


def test_save_while_locked_is_refused(tmp_path: Path) -> None:
    (tmp_path / "settings.lock").write_text("4242")
    with pytest.raises(SettingsBusy):
        SettingsStore(tmp_path).save({"theme": "dark"})


def test_save_fails_when_the_temporary_file_cannot_be_made(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path)
    (tmp_path / "settings.tmp").mkdir()  # the temporary file cannot be created
    with pytest.raises(SettingsError):
        store.save({"theme": "dark"})
