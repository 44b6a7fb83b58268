"""Which site each charger belongs to (DESIGN contract 4).

Sources, in order of precedence: a YAML or CSV sites file (FAULTBOT_SITES), then a
charger-id prefix rule (FAULTBOT_SITE_PREFIX, a regex whose first group, or whole
match, names the site), then the charger itself: a charger with no site is its own
site. A bad file raises SitesError naming the file and line.

YAML:  sites: {Depot North: {address: ..., timezone: Europe/Oslo, chargers: [CP-1, CP-2]}}
CSV:   charger_id,site,address,timezone   (header optional)
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.store.names import NameMatch, match_name

SITE_PREFIX_ENV = "FAULTBOT_SITE_PREFIX"
_MAX_NAME = 200
_CSV_HEADER = ("charger_id", "site", "address", "timezone")


class SitesError(ValueError):
    """A sites file (or prefix rule) that cannot be used; str() names file and line."""


@dataclass(slots=True)
class Site:
    name: str
    address: str | None = None
    timezone: str | None = None  # IANA name, validated
    chargers: list[str] = field(default_factory=list)


class SiteMap:
    def __init__(
        self,
        sites: Iterable[Site] = (),
        prefix_rule: str | None = None,
        *,
        source: str = "",
    ) -> None:
        self.source = source
        self._sites: dict[str, Site] = {}
        self._site_of: dict[str, str] = {}
        for site in sites:
            self._sites[site.name] = site
            for charger in site.chargers:
                self._site_of[charger] = site.name
        self._prefix: re.Pattern[str] | None = None
        if prefix_rule:
            try:
                self._prefix = re.compile(prefix_rule)
            except re.error as exc:
                raise SitesError(f"{SITE_PREFIX_ENV}: bad regular expression: {exc}") from None

    # --- loading ------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path | None, prefix_rule: str | None = None) -> SiteMap:
        if path is None:
            return cls((), prefix_rule)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SitesError(f"{path}: cannot read: {exc}") from None
        if Path(path).suffix.lower() == ".csv":
            sites = _from_csv(str(path), text)
        else:
            sites = _cached_yaml(str(path), text)
        return cls(sites, prefix_rule, source=str(path))

    @classmethod
    def from_settings(cls, settings: Any) -> SiteMap:
        """From Settings.sites_file and Settings.site_prefix (FAULTBOT_SITE_PREFIX)."""
        return cls.load(settings.sites_file, settings.site_prefix)

    # --- questions ----------------------------------------------------------------

    def site_of(self, charger: str) -> str:
        site = self._site_of.get(charger)
        if site is not None:
            return site
        if self._prefix is not None:
            m = self._prefix.search(charger)
            if m:
                name = next((g for g in m.groups() if g), None) or m.group(0)
                if name:
                    return name
        return charger

    def chargers_in(self, site: str, known: Iterable[str] = ()) -> list[str]:
        """Chargers of a site: those the file lists plus any `known` ids that map there
        (prefix-rule sites and one-charger sites exist only through known ids)."""
        listed = self._sites[site].chargers if site in self._sites else []
        found = dict.fromkeys(listed)
        for charger in known:
            if charger not in found and self.site_of(charger) == site:
                found[charger] = None
        return sorted(found)

    def sites(self, known: Iterable[str] = ()) -> list[str]:
        names = dict.fromkeys(self._sites)
        for charger in known:
            names.setdefault(self.site_of(charger), None)
        return sorted(names)

    def timezone_of(self, site: str) -> ZoneInfo | None:
        s = self._sites.get(site)
        return ZoneInfo(s.timezone) if s is not None and s.timezone else None

    def address_of(self, site: str) -> str | None:
        s = self._sites.get(site)
        return s.address if s is not None else None

    def find_sites(self, text: str, known: Iterable[str] = ()) -> list[str]:
        """Forgiving: `depot north` finds `Depot-North`; ranked, exact first."""
        return self.match_site(text, known).ranked

    def match_site(self, text: str, known: Iterable[str] = ()) -> NameMatch:
        return match_name(text, self.sites(known))


# --- file formats -------------------------------------------------------------------


def _zone(where: str, value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SitesError(f"{where}: unknown IANA time zone {value!r}") from None
    return value


def _name(where: str, what: str, value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise SitesError(f"{where}: {what} must be text, got {value!r}")
    value = value.strip()
    if len(value) > _MAX_NAME or not value.isprintable():
        raise SitesError(f"{where}: {what} must be printable and at most {_MAX_NAME} characters")
    return value


def _cached_yaml(path: str, text: str) -> list[Site]:
    """_from_yaml, kept in the per-user cache (bot.diskcache) keyed by the file's path and
    text and this module's code: a read-only command then imports no YAML parser."""
    from bot import diskcache

    key = diskcache.key_of("sites", [Path(__file__).read_bytes(), path, text])
    return diskcache.pickled(key, lambda: _from_yaml(path, text), lambda sites: (
        isinstance(sites, list) and all(isinstance(s, Site) for s in sites)))


def _from_yaml(path: str, text: str) -> list[Site]:
    import yaml  # here: a cached or CSV sites file needs no YAML parser

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SitesError(f"{path}{line}: not valid YAML: {problem}") from None

    def at(node: yaml.Node) -> str:
        return f"{path}:{node.start_mark.line + 1}"

    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise SitesError(f"{at(root)}: expected a mapping with a 'sites' key")
    top = {k.value: v for k, v in root.value}
    if "sites" not in top:
        raise SitesError(f"{at(root)}: expected a top-level 'sites' key")
    body = top["sites"]
    if isinstance(body, yaml.ScalarNode) and body.value in ("", "~", "null"):
        return []
    if not isinstance(body, yaml.MappingNode):
        raise SitesError(f"{at(body)}: 'sites' must map site names to their details")

    sites: list[Site] = []
    owner: dict[str, str] = {}
    for key_node, val_node in body.value:
        name = _name(at(key_node), "site name", key_node.value)
        if any(s.name == name for s in sites):
            raise SitesError(f"{at(key_node)}: site {name!r} is defined twice")
        site = Site(name)
        if isinstance(val_node, yaml.SequenceNode):  # shorthand: name: [CP-1, CP-2]
            fields: dict[str, yaml.Node] = {"chargers": val_node}
        elif isinstance(val_node, yaml.MappingNode):
            fields = {k.value: v for k, v in val_node.value}
        else:
            raise SitesError(f"{at(val_node)}: site {name!r} needs a list of chargers")
        unknown = sorted(set(fields) - {"address", "timezone", "chargers"})
        if unknown:
            raise SitesError(f"{at(val_node)}: unknown key {unknown[0]!r} in site {name!r}")
        for word in ("address", "timezone"):
            node = fields.get(word)
            if node is not None and isinstance(node, yaml.ScalarNode) and node.value:
                value = _name(at(node), word, node.value)
                setattr(site, word, _zone(at(node), value) if word == "timezone" else value)
            elif node is not None and not isinstance(node, yaml.ScalarNode):
                raise SitesError(f"{at(node)}: {word} of site {name!r} must be text")
        chargers = fields.get("chargers")
        if chargers is not None:
            if not isinstance(chargers, yaml.SequenceNode):
                raise SitesError(f"{at(chargers)}: chargers of site {name!r} must be a list")
            for item in chargers.value:
                if not isinstance(item, yaml.ScalarNode):
                    raise SitesError(f"{at(item)}: a charger id must be text")
                charger = _name(at(item), "charger id", item.value)
                if charger in owner:
                    raise SitesError(
                        f"{at(item)}: charger {charger!r} is already in site {owner[charger]!r}"
                    )
                owner[charger] = name
                site.chargers.append(charger)
        sites.append(site)
    return sites


def _from_csv(path: str, text: str) -> list[Site]:
    sites: dict[str, Site] = {}
    owner: dict[str, str] = {}
    reader = csv.reader(text.splitlines())
    try:
        for row in reader:
            where = f"{path}:{reader.line_num}"
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
                continue
            if tuple(c.lower() for c in cells[:2]) == _CSV_HEADER[:2]:
                continue
            if len(cells) < 2 or len(cells) > 4:
                raise SitesError(
                    f"{where}: expected charger_id,site[,address[,timezone]], "
                    f"got {len(cells)} columns"
                )
            cells += [""] * (4 - len(cells))
            charger = _name(where, "charger id", cells[0])
            name = _name(where, "site", cells[1])
            address = cells[2] or None
            zone = _zone(where, cells[3]) if cells[3] else None
            if charger in owner:
                raise SitesError(
                    f"{where}: charger {charger!r} is already in site {owner[charger]!r}"
                )
            site = sites.setdefault(name, Site(name))
            for word, value in (("address", address), ("timezone", zone)):
                old = getattr(site, word)
                if value and old and old != value:
                    raise SitesError(
                        f"{where}: site {name!r} already has {word} {old!r}, not {value!r}"
                    )
                if value:
                    setattr(site, word, value)
            owner[charger] = name
            site.chargers.append(charger)
    except csv.Error as exc:
        raise SitesError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from None
    return list(sites.values())
