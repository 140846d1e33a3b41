from collections.abc import Iterator
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    build_schema,
    specified_scalar_types,
)

from edge.schema import schema

CONTRACT_FILE = Path(__file__).resolve().parent.parent / "contract.graphql"


def _described(contract_type: GraphQLNamedType, ours: GraphQLNamedType) -> Iterator[tuple[str, str | None]]:
    """(coordinate, our description) of the type and of each field, argument and enum value the contract names."""
    yield contract_type.name, ours.description
    if isinstance(contract_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        assert isinstance(ours, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType)
        for name, field in contract_type.fields.items():
            our_field = ours.fields.get(name)
            if our_field is None:  # test_schema_file.py reports what is missing
                continue
            yield f"{contract_type.name}.{name}", our_field.description
            for arg_name in getattr(field, "args", {}):
                our_arg = getattr(our_field, "args", {}).get(arg_name)
                if our_arg is not None:
                    yield f"{contract_type.name}.{name}({arg_name}:)", our_arg.description
    if isinstance(contract_type, GraphQLEnumType):
        assert isinstance(ours, GraphQLEnumType)
        for name in contract_type.values:
            if name in ours.values:
                yield f"{contract_type.name}.{name}", ours.values[name].description


def test_every_part_of_the_contract_is_described() -> None:
    # given: the API frontends code against, less GraphQL's own introspection types and built-in scalars
    contract = build_schema(CONTRACT_FILE.read_text())
    names = [n for n in contract.type_map if not n.startswith("__") and n not in specified_scalar_types]
    # when: each type, field, argument and enum value of it that our schema offers is looked up there
    found = [
        (coordinate, description)
        for name in names
        if (ours := schema._schema.get_type(name)) is not None
        for coordinate, description in _described(contract.type_map[name], ours)
    ]
    # then: every one says what it is for
    assert len(found) > 400
    assert [coordinate for coordinate, description in found if not (description or "").strip()] == []


def test_every_part_of_the_schema_is_described() -> None:
    # given: our whole schema, what the contract does not hold yet included
    ours = schema._schema
    names = [n for n in ours.type_map if not n.startswith("__") and n not in specified_scalar_types]
    # when
    found = [coordinate for name in names for coordinate in _described(ours.type_map[name], ours.type_map[name])]
    # then
    assert "Webhook.deliveries(after:)" in {coordinate for coordinate, _ in found}
    assert [coordinate for coordinate, description in found if not (description or "").strip()] == []
