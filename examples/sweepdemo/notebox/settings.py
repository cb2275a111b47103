"""Settings: a JSON file saved atomically, with a short history of earlier versions."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from notebox.lock import release, try_lock

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"theme": "light", "autosave": True}
KEEP_BACKUPS = 3


class SettingsError(Exception):
    """The settings could not be saved."""


class SettingsBusy(SettingsError):
    """Another process is saving the settings."""


class SettingsStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "settings.json"

    def load(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return {**DEFAULTS, **json.load(handle)}
        except FileNotFoundError:
            return dict(DEFAULTS)  # first run: nothing saved yet

    def save(self, settings: dict[str, Any]) -> None:
        lock = self.directory / "settings.lock"
        if not try_lock(lock):
            raise SettingsBusy(f"{lock} is held by another process")
        try:
            self._backup()
            self._write(settings)
        finally:
            release(lock)
        self._prune_backups()

    def _write(self, settings: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump(settings, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise SettingsError(f"cannot save settings to {self.path}: {exc}") from exc

    def _backup(self) -> None:
        if self.path.exists():
            backups = self.backups()
            number = int(backups[-1].suffix[1:]) + 1 if backups else 1
            os.link(self.path, self.directory / f"settings.json.{number:04d}")

    def backups(self) -> list[Path]:
        return sorted(self.directory.glob("settings.json.[0-9]*"))

    def _prune_backups(self) -> None:
        for old in self.backups()[:-KEEP_BACKUPS]:
            try:
                os.unlink(old)
            except OSError:
                log.exception("could not remove the old settings backup %s", old)
