"""Fabric item types (``ItemType`` of the REST spec, common/definitions.json).

Source discovery uses them to tell another item's folder (``Sales.Lakehouse/``) from a workspace
folder; validate uses them to catch typos in ``${items.<Type>.…}`` lookups.
"""

from __future__ import annotations

# ItemType of the REST spec (common/definitions.json). The service adds types over time, so an
# unknown one is only a warning: the usual case is a typo that the plan would report as missing.
KNOWN_ITEM_TYPES = frozenset(
    {
        "ApacheAirflowJob",
        "AnomalyDetector",
        "AppBackend",
        "AzureDatabricksStorage",
        "CopyJob",
        "CosmosDBDatabase",
        "Dashboard",
        "DataAgent",
        "DataBuildToolJob",
        "DataPipeline",
        "Dataflow",
        "Datamart",
        "DigitalTwinBuilder",
        "DigitalTwinBuilderFlow",
        "Environment",
        "EventSchemaSet",
        "Eventhouse",
        "Eventstream",
        "GraphModel",
        "GraphQLApi",
        "GraphQuerySet",
        "KQLDashboard",
        "KQLDatabase",
        "KQLQueryset",
        "Lakehouse",
        "MLExperiment",
        "MLModel",
        "Map",
        "MirroredAzureDatabricksCatalog",
        "MirroredCatalog",
        "MirroredDatabase",
        "MirroredWarehouse",
        "MountedDataFactory",
        "Notebook",
        "Ontology",
        "OperationsAgent",
        "OrgApp",
        "OrgAppAudience",
        "PaginatedReport",
        "Plan",
        "Reflex",
        "Report",
        "SQLDatabase",
        "SQLEndpoint",
        "SemanticModel",
        "SnowflakeDatabase",
        "SparkJobDefinition",
        "UserDataFunction",
        "VariableLibrary",
        "Warehouse",
        "WarehouseSnapshot",
    }
)
