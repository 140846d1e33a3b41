import strawberry


@strawberry.interface(description="An object with an opaque global ID.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global ID: pass it back as it is; `node(id:)` finds the object by it."
    )
