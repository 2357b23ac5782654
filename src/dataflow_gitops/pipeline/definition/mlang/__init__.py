"""The Power Query M section-document reader (stage ① source; used by ② render and ④ diff).

mashup.pq text → :class:`SectionDocument` (members with exact source spans and a syntax tree) →
parameters, id literals, dataflow references; and span edits back to text. A real lexer and a
recursive-descent parser, pure Python, no dependencies::

    doc = parse_section(text, path="dataflows/Sales.Dataflow/mashup.pq")
    new_text = set_parameter(doc, "ServerName", "prod-sql.example.net")
"""

from __future__ import annotations

from dataflow_gitops.pipeline.definition.mlang.dependencies import query_dependencies
from dataflow_gitops.pipeline.definition.mlang.document import (
    Member,
    SectionDocument,
    parse_section,
    split_queries,
)
from dataflow_gitops.pipeline.definition.mlang.edits import apply_edits
from dataflow_gitops.pipeline.definition.mlang.id_literals import (
    FieldLiteral,
    RawReference,
    dataflow_references,
    field_literals,
)
from dataflow_gitops.pipeline.definition.mlang.literals import format_literal
from dataflow_gitops.pipeline.definition.mlang.nodes import Node
from dataflow_gitops.pipeline.definition.mlang.parameters import Parameter, parameters, set_parameter

__all__ = [
    "FieldLiteral",
    "Member",
    "Node",
    "Parameter",
    "RawReference",
    "SectionDocument",
    "apply_edits",
    "dataflow_references",
    "field_literals",
    "format_literal",
    "parameters",
    "parse_section",
    "query_dependencies",
    "set_parameter",
    "split_queries",
]
