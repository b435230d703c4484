import type { RepositoryName } from "@registry/core";
import { BlobIndexes, type BlobIndex } from "./blob-index";
import type { CatalogIndex } from "./catalog-index";
import type { RepositoryIndex } from "./repository-index";

/** The Durable Object namespaces of the index (bindings REPOSITORY_INDEX, CATALOG and BLOB_INDEX). */
export interface IndexNamespaces {
  repositories: DurableObjectNamespace<RepositoryIndex>;
  catalog: DurableObjectNamespace<CatalogIndex>;
  blobs: DurableObjectNamespace<BlobIndex>;
}

/** Stubs by name: one RepositoryIndex per repository, one CatalogIndex for the registry, the blob index's shards. */
export class Indexes {
  readonly blobs: BlobIndexes;

  constructor(private readonly ns: IndexNamespaces) {
    this.blobs = new BlobIndexes(ns.blobs);
  }

  repository(name: RepositoryName): DurableObjectStub<RepositoryIndex> {
    return this.ns.repositories.get(this.ns.repositories.idFromName(name));
  }

  catalog(): DurableObjectStub<CatalogIndex> {
    return this.ns.catalog.get(this.ns.catalog.idFromName("catalog"));
  }
}
