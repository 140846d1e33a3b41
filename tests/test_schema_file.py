from pathlib import Path

from graphql import build_schema
from graphql.utilities import find_breaking_changes

from edge.schema import schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema.graphql"
CONTRACT_FILE = ROOT / "contract.graphql"


def test_schema_file_is_current() -> None:
    # then: `make schema` regenerates it
    assert SCHEMA_FILE.read_text().strip() == schema.as_str().strip()


def test_schema_offers_the_whole_contract() -> None:
    # given: the API the web and mobile frontends code against
    contract = build_schema(CONTRACT_FILE.read_text())
    # when: every type, field, argument and enum value of it is looked up in ours
    missing = find_breaking_changes(contract, build_schema(schema.as_str()))
    # then
    assert [change.description for change in missing] == []
