from pathlib import Path

from graph.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_schema_file_is_current() -> None:
    # then: `make schema` regenerates it
    assert SCHEMA_FILE.read_text().strip() == schema.as_str().strip()
