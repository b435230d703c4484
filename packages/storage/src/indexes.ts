import type { RepositoryName } from "@registry/core";
import type { CatalogIndex } from "./catalog-index";
import type { RepositoryIndex } from "./repository-index";

/** The Durable Object namespaces of the index (bindings REPOSITORY_INDEX and CATALOG). */
export interface IndexNamespaces {
  repositories: DurableObjectNamespace<RepositoryIndex>;
  catalog: DurableObjectNamespace<CatalogIndex>;
}

/** Stubs by name: one RepositoryIndex per repository, one CatalogIndex for the registry. */
export class Indexes {
  constructor(private readonly ns: IndexNamespaces) {}

  repository(name: RepositoryName): DurableObjectStub<RepositoryIndex> {
    return this.ns.repositories.get(this.ns.repositories.idFromName(name));
  }

  catalog(): DurableObjectStub<CatalogIndex> {
    return this.ns.catalog.get(this.ns.catalog.idFromName("catalog"));
  }
}
