"""The HTTP edge: the endpoint, its limits, logs and metrics, the planned executor, and the schema assembled from
the API's types and root fields."""
