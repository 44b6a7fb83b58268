"""SiteMap: YAML, CSV, prefix rule, one-charger sites, forgiving lookup, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store.sites import SiteMap, SitesError

YAML = """\
# depots
sites:
  Depot North:
    address: 1 Harbour Road, Bergen
    timezone: Europe/Oslo
    chargers: [CP-001, CP-002]
  Mall-East:
    chargers:
      - CP-010
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_sites(tmp_path: Path) -> None:
    sites = SiteMap.load(_write(tmp_path, "sites.yaml", YAML))
    assert sites.site_of("CP-002") == "Depot North"
    assert sites.site_of("CP-010") == "Mall-East"
    assert sites.site_of("CP-999") == "CP-999"  # no site: its own site
    assert sites.chargers_in("Depot North") == ["CP-001", "CP-002"]
    assert sites.chargers_in("CP-999", known=["CP-999", "CP-001"]) == ["CP-999"]
    assert sites.sites() == ["Depot North", "Mall-East"]
    assert sites.sites(known=["CP-001", "CP-777"]) == ["CP-777", "Depot North", "Mall-East"]
    assert str(sites.timezone_of("Depot North")) == "Europe/Oslo"
    assert sites.timezone_of("Mall-East") is None
    assert sites.address_of("Depot North") == "1 Harbour Road, Bergen"


def test_csv_sites(tmp_path: Path) -> None:
    text = (
        "charger_id,site,address,timezone\n"
        "CP-1,Depot North,1 Harbour Road,Europe/Oslo\n"
        "\n"
        "CP-2,Depot North,,\n"
        "CP-3,Mall\n"
    )
    sites = SiteMap.load(_write(tmp_path, "sites.csv", text))
    assert sites.chargers_in("Depot North") == ["CP-1", "CP-2"]
    assert str(sites.timezone_of("Depot North")) == "Europe/Oslo"
    assert sites.site_of("CP-3") == "Mall"


def test_prefix_rule_and_file_precedence(tmp_path: Path) -> None:
    sites = SiteMap.load(_write(tmp_path, "s.yaml", YAML), prefix_rule=r"^([A-Z]+)-")
    assert sites.site_of("OSL-17") == "OSL"
    assert sites.site_of("CP-001") == "Depot North"  # the file wins
    assert sites.site_of("cp-5") == "cp-5"  # no match: its own site
    assert sites.chargers_in("OSL", known=["OSL-1", "OSL-2", "BGO-1"]) == ["OSL-1", "OSL-2"]
    assert SiteMap.load(None, r"^\w+").site_of("ABC-1") == "ABC"  # no group: whole match


def test_find_sites_is_forgiving(tmp_path: Path) -> None:
    sites = SiteMap.load(_write(tmp_path, "s.yaml", YAML))
    assert sites.find_sites("Depot North") == ["Depot North"]
    assert sites.find_sites("depot-north") == ["Depot North"]
    assert sites.find_sites("mall east") == ["Mall-East"]
    assert sites.find_sites("depot") == ["Depot North"]  # suggestion
    assert sites.match_site("depot").unique is None
    assert sites.find_sites("zzz") == []


@pytest.mark.parametrize(
    ("name", "text", "where", "words"),
    [
        ("a.yaml", "sites:\n  X:\n    chargers: [A, B\n", "a.yaml:4", "not valid YAML"),
        (
            "b.yaml",
            "sites:\n  X:\n    chargers: [A]\n  Y:\n    chargers: [B, A]\n",
            "b.yaml:5",
            "already in site 'X'",
        ),
        (
            "c.yaml",
            "sites:\n  X:\n    timezone: Mars/Olympus\n    chargers: [A]\n",
            "c.yaml:3",
            "unknown IANA time zone",
        ),
        ("d.yaml", "sites:\n  X:\n    charger: [A]\n", "d.yaml:3", "unknown key 'charger'"),
        ("e.yaml", "- A\n- B\n", "e.yaml:1", "'sites'"),
        ("f.yaml", "sites:\n  X:\n    chargers: A\n", "f.yaml:3", "must be a list"),
        ("g.csv", "CP-1,A\nCP-2\n", "g.csv:2", "got 1 columns"),
        ("h.csv", "CP-1,A,,Europe/Oslo\nCP-2,A,,Europe/Paris\n", "h.csv:2", "already has timezone"),
        ("i.csv", "CP-1,A\nCP-1,B\n", "i.csv:2", "already in site 'A'"),
    ],
)
def test_bad_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, where: str, words: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(SitesError) as err:
        SiteMap.load(path)
    message = str(err.value)
    assert message.startswith(str(tmp_path / where)), message
    assert words in message


def test_unreadable_file_and_bad_rule(tmp_path: Path) -> None:
    with pytest.raises(SitesError, match="cannot read"):
        SiteMap.load(tmp_path / "missing.yaml")
    with pytest.raises(SitesError, match="FAULTBOT_SITE_PREFIX"):
        SiteMap.load(None, "([A-Z")


def test_cached_sites_follow_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A parsed YAML sites file is cached for the next process, never stale."""
    monkeypatch.setenv("FAULTBOT_CACHE_DIR", str(tmp_path / "cache"))
    path = _write(tmp_path, "sites.yaml", "sites:\n  North: [CP-1, CP-2]\n")
    assert SiteMap.load(path).site_of("CP-2") == "North"
    assert [p for p in (tmp_path / "cache").iterdir() if p.name.startswith("sites-")]
    assert SiteMap.load(path).site_of("CP-2") == "North"  # from the cache
    path.write_text("sites:\n  South: [CP-2]\n", encoding="utf-8")
    assert SiteMap.load(path).site_of("CP-2") == "South"
    path.write_text("sites:\n  South: CP-2\n", encoding="utf-8")
    with pytest.raises(SitesError):
        SiteMap.load(path)
