"""Lets a database outage inside a resolver end the request with a 503.

Strawberry catches a resolver's exception and answers 200 with a (masked) GraphQL error:
a half answer. This extension looks at the errors before masking and reports an outage.
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry import Schema
from strawberry.extensions import SchemaExtension

from backend.server.database_outage import is_database_outage
from backend.server.failures import report_outage


class ReportDatabaseOutages(SchemaExtension):
    # on_execute ends inside every on_operation, so the errors are not masked yet.
    def on_execute(self) -> Iterator[None]:
        yield
        for error in getattr(self.execution_context.result, "errors", None) or ():
            if is_database_outage(error):
                report_outage(error.original_error or error)
                return


def reporting_outages(schema: Schema) -> Schema:
    """The schema, with the outage report added to the extensions it was built with."""
    if ReportDatabaseOutages not in schema.extensions:
        schema.extensions = (*schema.extensions, ReportDatabaseOutages)
    return schema
